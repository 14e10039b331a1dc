/**
 * AVG: kept as (sum, count) so windows re-aggregate exactly (the average of
 * averages would be wrong). The result is sum / count rounded half-even to 34
 * significant digits — exact whenever the quotient has no more digits than that.
 */
import { addDecimals, divideDecimals } from '../decimal.js';
import type { Aggregation } from './aggregation.js';

export interface AvgAcc {
  /** Canonical decimal sum of the values. */
  readonly sum: string;
  /** Number of values. */
  readonly count: number;
}

export const avgAggregation: Aggregation<AvgAcc> = {
  name: 'AVG',
  initial: () => ({ sum: '0', count: 0 }),
  add: (acc, input) => ({ sum: addDecimals(acc.sum, input.value as string), count: acc.count + 1 }),
  merge: (left, right) => ({ sum: addDecimals(left.sum, right.sum), count: left.count + right.count }),
  /** "0" for an empty accumulator (no window or row exists without an event). */
  result: (acc) => (acc.count === 0 ? '0' : divideDecimals(acc.sum, acc.count)),
  codec: {
    write: (writer, acc) => {
      writer.string(acc.sum);
      writer.unsigned(acc.count);
    },
    read: (reader) => {
      const sum = reader.string();
      return { sum, count: reader.unsigned() };
    },
  },
};
