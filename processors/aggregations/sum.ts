/** SUM: the exact decimal sum of the values. The accumulator is the canonical sum string. */
import { addDecimals } from '../decimal.js';
import { decimalCodec } from './accumulator-codecs.js';
import type { Aggregation } from './aggregation.js';

export type SumAcc = string;

export const sumAggregation: Aggregation<SumAcc> = {
  name: 'SUM',
  initial: () => '0',
  add: (acc, input) => addDecimals(acc, input.value as string),
  merge: (left, right) => addDecimals(left, right),
  result: (acc) => acc,
  codec: decimalCodec,
};
