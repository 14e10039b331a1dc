/**
 * Each aggregation's accumulator in the binary internal-record form (see
 * schemas/internal-records/). Decimal strings stay strings, so exact values
 * stay exact; counts, times and offsets are varints.
 */
import type { AggregationName } from '../../schemas/config-types.js';
import type { BinaryReader, BinaryWriter } from '../../schemas/index.js';
import type { AvgAcc } from './avg.js';
import type { CountAcc } from './count.js';
import type { LatestAcc } from './latest.js';
import type { MaxAcc } from './max.js';
import type { SumAcc } from './sum.js';
import type { UniqueCountAcc } from './unique-count.js';

export interface AccumulatorCodec<Acc> {
  write(writer: BinaryWriter, acc: Acc): void;
  read(reader: BinaryReader): Acc;
}

const absent = 0;
const present = 1;

const countCodec: AccumulatorCodec<CountAcc> = {
  write: (writer, acc) => writer.unsigned(acc),
  read: (reader) => reader.unsigned(),
};

const decimalCodec: AccumulatorCodec<SumAcc> = {
  write: (writer, acc) => writer.string(acc),
  read: (reader) => reader.string(),
};

const avgCodec: AccumulatorCodec<AvgAcc> = {
  write: (writer, acc) => {
    writer.string(acc.sum);
    writer.unsigned(acc.count);
  },
  read: (reader) => {
    const sum = reader.string();
    return { sum, count: reader.unsigned() };
  },
};

/** MIN and MAX: a presence byte, then the decimal. */
const optionalDecimalCodec: AccumulatorCodec<MaxAcc> = {
  write: (writer, acc) => {
    if (acc === null) return writer.byte(absent);
    writer.byte(present);
    writer.string(acc);
  },
  read: (reader) => (reader.byte() === absent ? null : reader.string()),
};

const latestCodec: AccumulatorCodec<LatestAcc> = {
  write: (writer, acc) => {
    if (acc === null) return writer.byte(absent);
    writer.byte(present);
    writer.string(acc.value);
    writer.signed(acc.timeMs);
    writer.signed(acc.offset);
    writer.string(acc.id);
  },
  read: (reader) => {
    if (reader.byte() === absent) return null;
    const value = reader.string();
    const timeMs = reader.signed();
    const offset = reader.signed();
    return { value, timeMs, offset, id: reader.string() };
  },
};

/** UNIQUE_COUNT: the values, kept in their sorted order. */
const uniqueCountCodec: AccumulatorCodec<UniqueCountAcc> = {
  write: (writer, acc) => writer.stringList(acc),
  read: (reader) => reader.stringList(),
};

const byAggregation: Readonly<Record<AggregationName, AccumulatorCodec<unknown>>> = {
  COUNT: countCodec as AccumulatorCodec<unknown>,
  SUM: decimalCodec as AccumulatorCodec<unknown>,
  AVG: avgCodec as AccumulatorCodec<unknown>,
  MIN: optionalDecimalCodec as AccumulatorCodec<unknown>,
  MAX: optionalDecimalCodec as AccumulatorCodec<unknown>,
  LATEST: latestCodec as AccumulatorCodec<unknown>,
  UNIQUE_COUNT: uniqueCountCodec as AccumulatorCodec<unknown>,
};

export function accumulatorCodecFor(name: AggregationName): AccumulatorCodec<unknown> {
  return byAggregation[name];
}
