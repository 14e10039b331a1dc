import { describe, expect, it } from 'vitest';
import { RecordCache } from '../../state/record-cache.js';

function filled(keys: string[]): RecordCache<number> {
  const cache = new RecordCache<number>(100);
  keys.forEach((key, index) => cache.putClean(key, key, undefined, index));
  return cache;
}

describe('the record cache', () => {
  it('evicts the oldest entries that nobody used since they were cached', () => {
    const cache = filled(['a', 'b', 'c', 'd']);
    expect(cache.victims(2).map((e) => e.key)).toEqual(['a', 'b']);
  });

  it('gives an entry read or written since then a second chance, behind every other entry', () => {
    const cache = filled(['a', 'b', 'c', 'd']);
    cache.get('a');
    cache.get('b');
    const victims = cache.victims(2);
    expect(victims.map((e) => e.key)).toEqual(['c', 'd']);
    cache.remove(victims);
    cache.putClean('e', 'e', undefined, 5);
    cache.putClean('f', 'f', undefined, 6);
    // Their mark is spent: now they are the oldest unmarked entries.
    expect(cache.victims(2).map((e) => e.key)).toEqual(['a', 'b']);
  });

  it('never picks a dirty entry: it leaves only after a flush wrote it', () => {
    const cache = filled(['a', 'b', 'c']);
    cache.putDirty('a', 'a', undefined, 10, 0);
    expect(cache.victims(1).map((e) => e.key)).toEqual(['b', 'c']);
    expect(cache.cleanCount).toBe(2);
  });

  it('evicts marked entries too when nothing else is left', () => {
    const cache = filled(['a', 'b', 'c']);
    for (const key of ['a', 'b', 'c']) cache.get(key);
    expect(cache.victims(1).map((e) => e.key)).toEqual(['a', 'b']);
  });

  it('keeps dirty keys in the order of their last write', () => {
    const cache = new RecordCache<number>(100);
    cache.putDirty('a', 'a', undefined, 1, 0);
    cache.putDirty('b', 'b', undefined, 2, 0);
    cache.putDirty('a', 'a', undefined, 3, 0);
    expect([...cache.dirtyEntries()].map((e) => `${e.key}=${e.value}`)).toEqual(['b=2', 'a=3']);
  });
});
