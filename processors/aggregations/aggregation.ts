/**
 * The contract every meter aggregation implements: an accumulator that is
 * built by `add`, combined by `merge` (for coarser windows in queries and for
 * billing periods), and read by `result`. Accumulators are plain JSON (they
 * live in window stores and changelogs) and are never mutated: `add` and
 * `merge` return new ones.
 */
import type { AggregationName } from '../../schemas/config-types.js';
import type { BinaryReader, BinaryWriter } from '../../schemas/index.js';

/** One event's contribution to a meter. */
export interface MeterInput {
  /**
   * The value at `valueProperty`: a validated decimal string for SUM, AVG,
   * MIN, MAX and LATEST; the value as a string for UNIQUE_COUNT; undefined for COUNT.
   */
  readonly value: string | undefined;
  /** Event time, epoch ms. */
  readonly timeMs: number;
  /** Offset of the event on the input topic (LATEST's first tie-break). */
  readonly offset: number;
  /** Event id (LATEST's second tie-break). */
  readonly id: string;
}

export interface Aggregation<Acc> {
  readonly name: AggregationName;
  initial(): Acc;
  add(acc: Acc, input: MeterInput): Acc;
  merge(left: Acc, right: Acc): Acc;
  /** The meter value as an exact decimal string ("0" for an empty accumulator where that is meaningful). */
  result(acc: Acc): string;
  /** The accumulator's layout in binary internal records (store values, changelogs, rating's usage). */
  readonly codec: AccumulatorCodec<Acc>;
}

/** Writes and reads one aggregation's accumulator in a binary internal record (see schemas/internal-records/). */
export interface AccumulatorCodec<Acc> {
  write(writer: BinaryWriter, acc: Acc): void;
  read(reader: BinaryReader): Acc;
}

/** What a meter's window store holds per (subject, group, window). */
export interface MeterWindowValue<Acc = unknown> {
  readonly acc: Acc;
  /** Events aggregated. */
  readonly count: number;
}
