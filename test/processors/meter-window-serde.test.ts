import { describe, expect, it } from 'vitest';
import type { AggregationName } from '../../schemas/config-types.js';
import { isBinaryRecord } from '../../schemas/index.js';
import { aggregationFor, type MeterWindowValue } from '../../processors/aggregations/index.js';
import { meterWindowValueSerde } from '../../processors/meter-window-serde.js';

const hugeDecimal = '123456789012345678901234567890.000000001';

const cases: readonly (readonly [AggregationName, string, MeterWindowValue])[] = [
  ['COUNT', 'one', { acc: 1, count: 1 }],
  ['COUNT', 'large', { acc: 2 ** 40, count: 2 ** 40 }],
  ['SUM', 'zero', { acc: '0', count: 0 }],
  ['SUM', 'a huge exact decimal', { acc: hugeDecimal, count: 3 }],
  ['SUM', 'negative', { acc: '-0.000000000000000000000001', count: 2 }],
  ['AVG', 'empty', { acc: { sum: '0', count: 0 }, count: 0 }],
  ['AVG', 'exact', { acc: { sum: `-${hugeDecimal}`, count: 7 }, count: 7 }],
  ['MIN', 'null', { acc: null, count: 0 }],
  ['MIN', 'negative', { acc: '-42.5', count: 4 }],
  ['MAX', 'null', { acc: null, count: 0 }],
  ['MAX', 'huge', { acc: hugeDecimal, count: 1 }],
  ['LATEST', 'null', { acc: null, count: 0 }],
  ['LATEST', 'a unicode id', { acc: { value: hugeDecimal, timeMs: 1_704_067_200_123, offset: 9_007_199_254, id: 'évènement-日本-🙂' }, count: 12 }],
  ['LATEST', 'a time before 1970', { acc: { value: '-1', timeMs: -86_400_000, offset: 0, id: '' }, count: 1 }],
  ['UNIQUE_COUNT', 'empty', { acc: [], count: 0 }],
  ['UNIQUE_COUNT', 'unicode values', { acc: ['', '1', 'a|b', 'ñandú', '🙂'], count: 9 }],
  ['UNIQUE_COUNT', 'the two halves of one emoji as two values', { acc: ['\ud83d', '\ude42'], count: 2 }],
  ['UNIQUE_COUNT', '2000 values', { acc: Array.from({ length: 2000 }, (_, i) => `user-${String(i).padStart(5, '0')}`), count: 5000 }],
];

describe('meter window values in the binary form', () => {
  it.each(cases)('%s round-trips %s', (aggregation, _name, value) => {
    const serde = meterWindowValueSerde(aggregation, 'binary');
    const bytes = serde.serialize(value);
    expect(isBinaryRecord(bytes)).toBe(true);
    expect(serde.deserialize(bytes)).toEqual(value);
  });

  it.each(cases)('%s reads the legacy JSON of %s as the same value', (aggregation, _name, value) => {
    const legacy = Buffer.from(JSON.stringify(value), 'utf8');
    expect(meterWindowValueSerde(aggregation, 'binary').deserialize(legacy)).toEqual(value);
  });

  it.each(cases)('%s writes %s as plain JSON in json mode', (aggregation, _name, value) => {
    expect(meterWindowValueSerde(aggregation, 'json').serialize(value).toString('utf8')).toBe(JSON.stringify(value));
  });

  it('is smaller than JSON for every accumulator that holds something', () => {
    for (const [aggregation, name, value] of cases) {
      const binary = meterWindowValueSerde(aggregation, 'binary').serialize(value).length;
      expect(binary, `${aggregation} ${name}`).toBeLessThan(JSON.stringify(value).length);
    }
  });

  it('writes a set holding a lone surrogate as JSON (UTF-8 cannot hold it), and reads it back', () => {
    const serde = meterWindowValueSerde('UNIQUE_COUNT', 'binary');
    const value = { acc: ['a', '\ud800'], count: 2 };
    const bytes = serde.serialize(value);
    expect(isBinaryRecord(bytes)).toBe(false);
    expect(serde.deserialize(bytes)).toEqual(value);
  });

  it('keeps a sum exact through many round trips (no doubles on the way)', () => {
    const serde = meterWindowValueSerde('SUM', 'binary');
    const sum = aggregationFor('SUM');
    let value: MeterWindowValue = { acc: sum.initial(), count: 0 };
    for (let index = 0; index < 1000; index++) {
      value = serde.deserialize(serde.serialize({ acc: sum.add(value.acc, { value: '0.1', timeMs: 0, offset: index, id: String(index) }), count: value.count + 1 }));
    }
    expect(value).toEqual({ acc: '100', count: 1000 });
  });
});
