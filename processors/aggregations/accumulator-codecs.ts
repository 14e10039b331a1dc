/**
 * Accumulator layouts that several aggregations share, in the binary
 * internal-record form (see schemas/internal-records/). Decimal strings stay
 * strings, so exact values stay exact. Each aggregation names its own layout
 * (`Aggregation.codec`).
 */
import type { AccumulatorCodec } from './aggregation.js';

/** The first byte of an optional accumulator: whether a value follows. */
export const absent = 0;
export const present = 1;

/** SUM: the canonical decimal string. */
export const decimalCodec: AccumulatorCodec<string> = {
  write: (writer, acc) => writer.string(acc),
  read: (reader) => reader.string(),
};

/** MIN and MAX: a presence byte, then the decimal. */
export const optionalDecimalCodec: AccumulatorCodec<string | null> = {
  write: (writer, acc) => {
    if (acc === null) return writer.byte(absent);
    writer.byte(present);
    writer.string(acc);
  },
  read: (reader) => (reader.byte() === absent ? null : reader.string()),
};
