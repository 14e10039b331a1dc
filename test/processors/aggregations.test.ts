import { describe, expect, it } from 'vitest';
import { aggregationFor, type Aggregation, type MeterInput } from '../../processors/aggregations/index.js';
import { aggregations } from '../../schemas/config-types.js';

let offset = 0;
const input = (value: string | undefined, timeMs = 0, id = `e${offset}`, at = offset++): MeterInput => ({ value, timeMs, offset: at, id });

function fold<A>(aggregation: Aggregation<A>, inputs: readonly MeterInput[]): A {
  return inputs.reduce((acc, i) => aggregation.add(acc, i), aggregation.initial());
}

function resultOf(name: Parameters<typeof aggregationFor>[0], inputs: readonly MeterInput[]): string {
  const aggregation = aggregationFor(name);
  return aggregation.result(fold(aggregation, inputs));
}

/** Every permutation of a small array. */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, index) => permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]));
}

describe('aggregations', () => {
  it('has one aggregation per configurable name', () => {
    for (const name of aggregations) expect(aggregationFor(name).name).toBe(name);
  });

  it('SUM is exact: 0.1 a thousand times is "100"', () => {
    expect(resultOf('SUM', Array.from({ length: 1000 }, () => input('0.1')))).toBe('100');
  });

  it('SUM merges partial sums exactly and starts at "0"', () => {
    const sum = aggregationFor('SUM');
    expect(sum.result(sum.merge(fold(sum, [input('0.1'), input('0.2')]), fold(sum, [input('-0.3'), input('1e3')])))).toBe('1000');
    expect(sum.result(sum.initial())).toBe('0');
  });

  it('COUNT counts events and merges by adding', () => {
    const count = aggregationFor('COUNT');
    const three = fold(count, [input(undefined), input(undefined), input(undefined)]);
    expect(count.result(three)).toBe('3');
    expect(count.result(count.merge(three, three))).toBe('6');
    expect(count.result(count.initial())).toBe('0');
  });

  it('UNIQUE_COUNT is exact and its merge is the union', () => {
    const unique = aggregationFor('UNIQUE_COUNT');
    const left = fold(unique, ['u1', 'u2', 'u1', 'u3'].map((v) => input(v)));
    const right = fold(unique, ['u3', 'u4', 'u2'].map((v) => input(v)));
    expect(unique.result(left)).toBe('3');
    expect(unique.result(unique.merge(left, right))).toBe('4');
    expect(unique.merge(left, right)).toEqual(['u1', 'u2', 'u3', 'u4']);
    expect(unique.result(unique.initial())).toBe('0');
  });

  it('UNIQUE_COUNT keeps a sorted set whatever the arrival order, and does not copy on a repeat', () => {
    const unique = aggregationFor('UNIQUE_COUNT');
    for (const order of permutations(['b', 'a', 'c', 'a'])) expect(fold(unique, order.map((v) => input(v)))).toEqual(['a', 'b', 'c']);
    const acc = fold(unique, [input('x')]);
    expect(unique.add(acc, input('x'))).toBe(acc);
  });

  it('UNIQUE_COUNT counts 10,000 distinct values exactly', () => {
    const unique = aggregationFor('UNIQUE_COUNT');
    const values = Array.from({ length: 10_000 }, (_, i) => input(`user-${(i * 7919) % 10_000}`));
    expect(unique.result(fold(unique, [...values, ...values.slice(0, 100)]))).toBe('10000');
  });

  it('AVG keeps sum and count, so windows re-aggregate to the true average', () => {
    const avg = aggregationFor('AVG');
    const window1 = fold(avg, [input('1'), input('2'), input('3')]); // avg 2
    const window2 = fold(avg, [input('10')]); // avg 10
    expect(avg.result(window1)).toBe('2');
    expect(avg.result(window2)).toBe('10');
    // (1+2+3+10)/4 = 4, not the average of averages (6)
    expect(avg.result(avg.merge(window1, window2))).toBe('4');
    expect(avg.result(fold(avg, [input('0.1'), input('0.2')]))).toBe('0.15');
    expect(avg.result(fold(avg, [input('1'), input('1'), input('2')]))).toBe('1.333333333333333333333333333333333');
    expect(avg.result(avg.initial())).toBe('0');
  });

  it('MIN and MAX compare decimals by value', () => {
    const values = ['10', '9', '-0.5', '100.25', '2'].map((v) => input(v));
    expect(resultOf('MIN', values)).toBe('-0.5');
    expect(resultOf('MAX', values)).toBe('100.25');
    const min = aggregationFor('MIN');
    const max = aggregationFor('MAX');
    expect(min.result(min.merge(fold(min, [input('3')]), fold(min, [input('1')])))).toBe('1');
    expect(max.result(max.merge(fold(max, [input('3')]), max.initial()))).toBe('3');
    expect(min.result(min.initial())).toBe('0');
  });

  it('LATEST takes the greatest event time, whatever the arrival order', () => {
    const events = [input('1', 1000, 'a', 5), input('2', 3000, 'b', 1), input('3', 2000, 'c', 9)];
    for (const order of permutations(events)) expect(resultOf('LATEST', order)).toBe('2');
  });

  it('LATEST breaks a time tie by the higher offset, then by the greater id', () => {
    const byOffset = [input('low', 1000, 'z', 1), input('high', 1000, 'a', 2)];
    for (const order of permutations(byOffset)) expect(resultOf('LATEST', order)).toBe('high');
    const byId = [input('first', 1000, 'id-a', 7), input('second', 1000, 'id-b', 7)];
    for (const order of permutations(byId)) expect(resultOf('LATEST', order)).toBe('second');
  });

  it('LATEST merges by keeping the later of two windows, in either order', () => {
    const latest = aggregationFor('LATEST');
    const early = fold(latest, [input('5', 1000)]);
    const late = fold(latest, [input('7', 2000)]);
    expect(latest.result(latest.merge(early, late))).toBe('7');
    expect(latest.result(latest.merge(late, early))).toBe('7');
    expect(latest.result(latest.merge(latest.initial(), early))).toBe('5');
    expect(latest.result(latest.initial())).toBe('0');
  });

  it('never mutates an accumulator', () => {
    for (const name of aggregations) {
      const aggregation = aggregationFor(name);
      const acc = fold(aggregation, [input('1', 1000)]);
      const snapshot = JSON.stringify(acc);
      aggregation.add(acc, input('2', 2000));
      aggregation.merge(acc, fold(aggregation, [input('3', 3000)]));
      expect(JSON.stringify(acc)).toBe(snapshot);
    }
  });

  it('accumulators survive a JSON round trip (they live in stores and changelogs)', () => {
    for (const name of aggregations) {
      const aggregation = aggregationFor(name);
      const acc = fold(aggregation, [input('1.5', 1000), input('2', 2000)]);
      const restored = JSON.parse(JSON.stringify(acc)) as unknown;
      expect(aggregation.result(aggregation.add(restored, input('3', 3000)))).toBe(aggregation.result(aggregation.add(acc, input('3', 3000))));
    }
  });
});
