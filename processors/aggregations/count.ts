/** COUNT: the number of events. The accumulator is that number (exact up to 2^53). */
import type { Aggregation } from './aggregation.js';

export type CountAcc = number;

export const countAggregation: Aggregation<CountAcc> = {
  name: 'COUNT',
  initial: () => 0,
  add: (acc) => acc + 1,
  merge: (left, right) => left + right,
  result: (acc) => String(acc),
  codec: { write: (writer, acc) => writer.unsigned(acc), read: (reader) => reader.unsigned() },
};
