import { describe, expect, it } from 'vitest';
import { OpenWindowIndex } from '../../processors/open-windows.js';

/** An index with `counts[i]` windows at start `i * 60`, of plans 'a' and 'b' alternately. */
function indexWith(counts: readonly number[]): OpenWindowIndex<string> {
  const index = new OpenWindowIndex<string>();
  counts.forEach((count, i) => {
    for (let k = 0; k < count; k++) index.add(k % 2 === 0 ? 'a' : 'b', `key-${k}`, i * 60);
  });
  return index;
}

describe('the open-window index: a bounded step of a large close', () => {
  it('takes whole window starts in order until they hold the step', () => {
    const index = indexWith([3, 3, 3, 3]);
    expect(index.stepBound(240, 5)).toBe(120);
    expect(index.stepBound(240, 6)).toBe(120);
    expect(index.stepBound(240, 7)).toBe(180);
    expect(index.stepBound(90, 5)).toBe(90);
    expect(index.stepBound(240, Number.POSITIVE_INFINITY)).toBe(240);
  });

  it('always takes the first start, however many windows it holds', () => {
    const index = indexWith([10, 1]);
    expect(index.stepBound(120, 4)).toBe(60);
    expect(index.stepBound(60, 4)).toBe(60);
  });

  it('closes everything in steps, each window once', () => {
    const index = indexWith([3, 1, 4, 1, 5]);
    const taken: string[] = [];
    for (let steps = 1; index.size > 0; steps++) {
      const bound = index.stepBound(300, 4);
      for (const [plan, windows] of index.takeBefore(bound, ['a', 'b'])) for (const w of windows) taken.push(`${plan}:${w.key}@${w.windowStartMs}`);
      expect(steps).toBeLessThanOrEqual(4);
    }
    expect(taken).toHaveLength(14);
    expect(new Set(taken).size).toBe(14);
  });
});
