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

describe('the open-window index', () => {
  it('says whether a window is new, for starts in any order, per plan and key', () => {
    const index = new OpenWindowIndex<string>();
    expect(index.add('a', 'k', 120)).toBe(true);
    expect(index.add('a', 'k', 120)).toBe(false);
    expect(index.add('a', 'k', 0)).toBe(true);
    expect(index.add('a', 'k', 60)).toBe(true);
    expect(index.add('a', 'k', 60)).toBe(false);
    expect(index.add('a', 'k', 0)).toBe(false);
    expect(index.add('b', 'k', 60)).toBe(true);
    expect(index.add('a', 'other', 60)).toBe(true);
    expect(index.size).toBe(3);
  });

  it('keeps many starts of one key in order, each once, whatever order they come in', () => {
    const index = new OpenWindowIndex<string>();
    const starts = Array.from({ length: 40 }, (_, i) => ((i * 17) % 40) * 60);
    for (const start of starts) expect(index.add('a', 'k', start)).toBe(true);
    for (const start of starts) expect(index.add('a', 'k', start)).toBe(false);
    const taken = index.takeBefore(20 * 60, ['a']).get('a') ?? [];
    expect(taken.map((w) => w.windowStartMs)).toEqual(Array.from({ length: 20 }, (_, i) => i * 60));
    expect(index.add('a', 'k', 30 * 60)).toBe(false);
    expect((index.takeBefore(40 * 60, ['a']).get('a') ?? []).map((w) => w.windowStartMs)).toEqual(Array.from({ length: 20 }, (_, i) => (20 + i) * 60));
  });

  it('takes the windows before a bound once, grouped by plan in the order given, and keeps the later ones', () => {
    const index = new OpenWindowIndex<string>();
    for (const [plan, key, start] of [['a', 'x', 60], ['a', 'x', 0], ['b', 'y', 0], ['a', 'z', 120], ['b', 'x', 60]] as const) index.add(plan, key, start);
    const taken = index.takeBefore(61, ['b', 'a', 'c']);
    expect([...taken.keys()]).toEqual(['b', 'a']);
    const names = (windows: readonly { key: string; windowStartMs: number }[] | undefined) => (windows ?? []).map((w) => `${w.key}@${w.windowStartMs}`).sort();
    expect(names(taken.get('a'))).toEqual(['x@0', 'x@60']);
    expect(names(taken.get('b'))).toEqual(['x@60', 'y@0']);
    expect(index.size).toBe(1);
    expect(index.takeBefore(61, ['a', 'b']).size).toBe(0);
    // A closed window's key is gone from the index: the same window again is new (the caller's close bound makes it late).
    expect(index.add('a', 'x', 60)).toBe(true);
    expect(names(index.takeBefore(1_000, ['a', 'b']).get('a'))).toEqual(['x@60', 'z@120']);
    expect(index.size).toBe(0);
  });
});

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
