/** MAX: the largest value. The accumulator is its canonical string, or null before any value. */
import { compareDecimals } from '../decimal.js';
import { optionalDecimalCodec } from './accumulator-codecs.js';
import type { Aggregation } from './aggregation.js';

export type MaxAcc = string | null;

function larger(left: MaxAcc, right: MaxAcc): MaxAcc {
  if (left === null) return right;
  if (right === null) return left;
  return compareDecimals(right, left) > 0 ? right : left;
}

export const maxAggregation: Aggregation<MaxAcc> = {
  name: 'MAX',
  initial: () => null,
  add: (acc, input) => larger(acc, input.value as string),
  merge: larger,
  /** "0" for an empty accumulator (no window or row exists without an event). */
  result: (acc) => acc ?? '0',
  codec: optionalDecimalCodec,
};
