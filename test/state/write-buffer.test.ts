/**
 * The write buffer of a store without a cache: a write is readable from the
 * put until its flush's batch is written, the last write of a key wins, and a
 * delete is told apart from a key never written.
 */
import { describe, expect, it } from 'vitest';
import { notBuffered, WriteBuffer } from '../../state/write-buffer.js';

describe('WriteBuffer', () => {
  it('holds a write from the put until its flush is written, then leaves the key to the bytes store', () => {
    const buffer = new WriteBuffer<number>();
    expect(buffer.lookup('a')).toBe(notBuffered);
    buffer.put('a', 1);
    expect(buffer.lookup('a')).toBe(1);
    const taken = buffer.take();
    expect(buffer.pendingCount).toBe(0);
    expect(buffer.lookup('a')).toBe(1);
    buffer.written(taken);
    expect(buffer.lookup('a')).toBe(notBuffered);
    expect(buffer.isEmpty).toBe(true);
  });

  it('answers with the newest write: pending before taken, a later flush before an earlier one', () => {
    const buffer = new WriteBuffer<number>();
    buffer.put('a', 1);
    const first = buffer.take();
    buffer.put('a', 2);
    const second = buffer.take();
    expect(buffer.lookup('a')).toBe(2);
    buffer.put('a', 3);
    expect(buffer.lookup('a')).toBe(3);
    buffer.discardPending();
    expect(buffer.lookup('a')).toBe(2);
    // Batches may be written in any order; what is left still answers.
    buffer.written(second);
    expect(buffer.lookup('a')).toBe(1);
    buffer.written(first);
    expect(buffer.lookup('a')).toBe(notBuffered);
  });

  it('tells a buffered delete (undefined) from a key it does not hold, and a delete hides an earlier taken write', () => {
    const buffer = new WriteBuffer<string>();
    buffer.put('k', 'v');
    buffer.take();
    buffer.put('k', undefined);
    expect(buffer.lookup('k')).toBeUndefined();
    expect(buffer.lookup('other')).toBe(notBuffered);
  });

  it('gives a flush its writes in the order of their first write, deletes as undefined', () => {
    const buffer = new WriteBuffer<number>();
    buffer.put('b', 1);
    buffer.put('a', 2);
    buffer.put('b', 3);
    buffer.put('c', undefined);
    expect([...WriteBuffer.entriesOf(buffer.take())]).toEqual([
      ['b', 3],
      ['a', 2],
      ['c', undefined],
    ]);
  });

  it('lists every unwritten key once with its newest value, and forgets a pending write on delete', () => {
    const buffer = new WriteBuffer<number>();
    buffer.put('a', 1);
    buffer.put('b', 1);
    buffer.take();
    buffer.put('a', 2);
    buffer.put('c', 3);
    buffer.delete('c');
    expect(new Map(buffer.unwritten())).toEqual(
      new Map([
        ['a', 2],
        ['b', 1],
      ]),
    );
    buffer.clear();
    expect([...buffer.unwritten()]).toEqual([]);
    expect(buffer.isEmpty).toBe(true);
  });
});
