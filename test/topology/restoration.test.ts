/**
 * A restoration applies a changelog in order, once. Batches fetched before
 * the restoration was sought back (a task rebuilt from scratch while batches
 * of its old position were in flight) must neither be applied nor move the
 * position: applying one would leave a gap (records skipped for good) or put
 * older values back over newer ones.
 */
import type { Batch } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { BytesWrite, StateStore } from '../../state/index.js';
import { TaskId } from '../../topology/task-id.js';
import { Restorer, type ChangelogRestore } from '../../topology/kafka/restoration.js';

function restoreOf(applied: string[], position: number, endOffset: number): ChangelogRestore {
  const store = { restore: async (writes: readonly BytesWrite[]) => void applied.push(...writes.map((w) => `${w.key.toString()}=${w.value?.toString()}`)) } as unknown as StateStore;
  return { taskId: new TaskId(1, 0), storeName: 's', topic: 'c', partition: 0, store, startOffset: position, endOffset, position, restoredRecords: 0 };
}

/** A fetched batch of `records` (offset → key=value), ending at `lastOffset`. */
function batchOf(records: Record<number, string>, lastOffset: number): Batch {
  const messages = Object.entries(records).map(([offset, kv]) => {
    const [key, value] = kv.split('=') as [string, string];
    return { offset, key: Buffer.from(key), value: Buffer.from(value) };
  });
  let index = 0;
  const messageReader = () => ({ next: () => messages[index++] ?? null });
  return { messageReader, lastOffset: () => String(lastOffset) } as unknown as Batch;
}

describe('changelog restoration', () => {
  it('a batch that continues the position is applied, records before the position skipped', async () => {
    const applied: string[] = [];
    const restorer = new Restorer();
    const restore = restoreOf(applied, 2, 6);
    expect(restorer.follows(restore, 0)).toBe(true);
    const done = await restorer.apply(restore, batchOf({ 0: 'a=old', 1: 'b=old', 2: 'a=new', 3: 'c=1' }, 3));
    expect(applied).toEqual(['a=new', 'c=1']);
    expect(restore.position).toBe(4);
    expect(done).toBe(false);
  });

  it('a batch fetched past the position does not follow it: applying it would skip records', () => {
    const restore = restoreOf([], 0, 10);
    expect(new Restorer().follows(restore, 5)).toBe(false);
    expect(new Restorer().follows(restore, 0)).toBe(true);
  });

  it('records at or past the end offset taken before restoring are left for processing', async () => {
    const applied: string[] = [];
    const restore = restoreOf(applied, 0, 2);
    const done = await new Restorer().apply(restore, batchOf({ 0: 'a=1', 1: 'b=1', 2: 'c=1' }, 2));
    expect(applied).toEqual(['a=1', 'b=1']);
    expect(done).toBe(true);
  });
});
