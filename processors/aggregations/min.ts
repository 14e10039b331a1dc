/** MIN: the smallest value. The accumulator is its canonical string, or null before any value. */
import { compareDecimals } from '../decimal.js';
import { optionalDecimalCodec } from './accumulator-codecs.js';
import type { Aggregation } from './aggregation.js';

export type MinAcc = string | null;

function smaller(left: MinAcc, right: MinAcc): MinAcc {
  if (left === null) return right;
  if (right === null) return left;
  return compareDecimals(right, left) < 0 ? right : left;
}

export const minAggregation: Aggregation<MinAcc> = {
  name: 'MIN',
  initial: () => null,
  add: (acc, input) => smaller(acc, input.value as string),
  merge: smaller,
  /** "0" for an empty accumulator (no window or row exists without an event). */
  result: (acc) => acc ?? '0',
  codec: optionalDecimalCodec,
};
