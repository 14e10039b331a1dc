import { describe, expect, it } from 'vitest';
import { usageChange } from '../../processors/rating/index.js';

const window = (acc: unknown, count = 1) => ({ acc, count });

describe('meter deltas for rating', () => {
  it('send new − old for COUNT and SUM, exactly, and nothing when the value did not move', () => {
    expect(usageChange('COUNT', window(5, 5), window(3, 3))).toEqual({ add: '2' });
    expect(usageChange('COUNT', window(1), undefined)).toEqual({ add: '1' });
    expect(usageChange('SUM', window('0.3', 2), window('0.1'))).toEqual({ add: '0.2' });
    expect(usageChange('SUM', window('1', 2), window('1.5'))).toEqual({ add: '-0.5' });
    expect(usageChange('SUM', window('2', 2), window('2'))).toBeUndefined();
  });

  it('send only the values a UNIQUE_COUNT window gained', () => {
    expect(usageChange('UNIQUE_COUNT', window(['a', 'b', 'd'], 4), window(['b']))).toEqual({ merge: ['a', 'd'] });
    expect(usageChange('UNIQUE_COUNT', window(['a', 'b'], 3), window(['a', 'b'], 2))).toBeUndefined();
  });

  it('send the window accumulator for MAX and LATEST when it changed (merging it again is harmless)', () => {
    const latest = { value: '3', timeMs: 10, offset: 1, id: 'e1' };
    expect(usageChange('MAX', window('7', 2), window('5'))).toEqual({ merge: '7' });
    expect(usageChange('MAX', window('7', 3), window('7', 2))).toBeUndefined();
    expect(usageChange('LATEST', window(latest), undefined)).toEqual({ merge: latest });
  });

  it('send nothing for AVG and MIN, which no charge can price', () => {
    expect(usageChange('AVG', window({ sum: '2', count: 1 }), undefined)).toBeUndefined();
    expect(usageChange('MIN', window('1'), undefined)).toBeUndefined();
  });
});
