/**
 * A segmented store's key filters (filterKeys): a read of a key a segment
 * does not hold is answered without LevelDB, and never wrongly — for the
 * segments it creates, for those it finds on disk once their scan is done,
 * for writes made while that scan runs, and past the size cap (no filter).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dedupeStoreSpec } from '../../processors/dedupe.js';
import { jsonSerde } from '../../schemas/index.js';
import { createKeyValueStore } from '../../state/index.js';
import { encodeWindowKey } from '../../state/key-codec.js';
import { SegmentedBytesStore, type SegmentedBytesStoreOptions } from '../../state/segmented-bytes-store.js';

const hourMs = 3_600_000;
let dir: string;
const open: SegmentedBytesStore[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tally-key-filter-'));
});

afterEach(async () => {
  for (const store of open.splice(0)) await store.close();
  await rm(dir, { recursive: true, force: true });
});

async function openStore(options: Partial<SegmentedBytesStoreOptions> = {}): Promise<SegmentedBytesStore> {
  const store = new SegmentedBytesStore({ location: path.join(dir, 'dedupe'), retentionMs: 3 * hourMs, segmentIntervalMs: hourMs, filterKeys: true, ...options });
  await store.open();
  open.push(store);
  return store;
}

const identity = (n: number): string => JSON.stringify(['bench', `event-${n}`]);
const windowKey = (n: number, startMs: number): Buffer => encodeWindowKey(identity(n), startMs);
/** What a window store asks with: the cache key (the latin1 string of the key's bytes). */
const mayHold = (store: SegmentedBytesStore, n: number, startMs: number): boolean => store.mayHold(windowKey(n, startMs).toString('latin1'), startMs);
const writes = (from: number, to: number, startMs: number) => Array.from({ length: to - from }, (_, i) => ({ key: windowKey(from + i, startMs), value: Buffer.from([1]) }));

describe('a segmented store with key filters', () => {
  it('answers from the filter that a segment never got a key, and reads every key it did get', async () => {
    const store = await openStore();
    expect(mayHold(store, 1, 0)).toBe(false);
    await store.write(writes(0, 1_000, 0));
    await store.write(writes(1_000, 2_000, hourMs));
    for (let n = 0; n < 1_000; n++) {
      expect(mayHold(store, n, 0)).toBe(true);
      expect(store.get(windowKey(n, 0))?.[0]).toBe(1);
    }
    for (let n = 1_000; n < 2_000; n++) {
      expect(mayHold(store, n, hourMs)).toBe(true);
      expect(store.get(windowKey(n, hourMs))?.[0]).toBe(1);
    }
    // No segment for that hour: nothing to hold, and no filter asked.
    expect(mayHold(store, 1, 2 * hourMs)).toBe(false);
    expect(store.filteredReads).toBe(0);
    // The same identities in the other segment, and new ones: about 1 % may be held (false positives).
    let maybe = 0;
    for (let n = 0; n < 1_000; n++) if (mayHold(store, n, hourMs)) maybe++;
    for (let n = 5_000; n < 6_000; n++) if (mayHold(store, n, 0)) maybe++;
    expect(maybe).toBeLessThan(50);
    expect(store.filteredReads).toBe(2_000 - maybe);
    // What the filter lets through, LevelDB answers: none of them is there.
    for (let n = 5_000; n < 6_000; n++) expect(store.get(windowKey(n, 0))).toBeUndefined();
  });

  it('completes the filters of segments found at open from their keys, and keeps the writes made meanwhile', async () => {
    const first = await openStore();
    await first.write(writes(0, 3_000, 0));
    await first.write(writes(3_000, 6_000, hourMs));
    await first.close();
    open.splice(0);

    const store = await openStore();
    // Before the scans are done the filter is not asked: a key never written may be held, LevelDB says.
    expect(mayHold(store, 9_999, 0)).toBe(true);
    expect(store.get(windowKey(9_999, 0))).toBeUndefined();
    // Written while the scans run: the filter must hold these too.
    await store.write(writes(6_000, 6_500, 0));
    await store.filtersFilled();
    for (let n = 0; n < 3_000; n++) expect(mayHold(store, n, 0)).toBe(true);
    for (let n = 6_000; n < 6_500; n++) expect(mayHold(store, n, 0)).toBe(true);
    for (let n = 3_000; n < 6_000; n++) expect(mayHold(store, n, hourMs)).toBe(true);
    for (let n = 0; n < 3_000; n++) expect(store.get(windowKey(n, 0))?.[0]).toBe(1);
    expect(store.filteredReads).toBe(0);
    for (let n = 10_000; n < 11_000; n++) mayHold(store, n, hourMs);
    expect(store.filteredReads).toBeGreaterThan(950);
  });

  it('drops a filter that outgrows its cap: every read of that segment goes to LevelDB, and stays right', async () => {
    // The first layer alone is ~80 KiB: a cap below it drops the filter at the first key.
    const store = await openStore({ maxFilterBytes: 1_024 });
    await store.write(writes(0, 500, 0));
    for (let n = 0; n < 500; n++) expect(store.get(windowKey(n, 0))?.[0]).toBe(1);
    for (let n = 500; n < 1_000; n++) {
      expect(mayHold(store, n, 0)).toBe(true);
      expect(store.get(windowKey(n, 0))).toBeUndefined();
    }
    expect(store.filteredReads).toBe(0);
  });

  it('keeps no filter in memory, where a read costs less than a filter check', async () => {
    const store = await openStore({ location: undefined });
    await store.write(writes(0, 100, 0));
    for (let n = 100; n < 200; n++) {
      expect(mayHold(store, n, 0)).toBe(true);
      expect(store.get(windowKey(n, 0))).toBeUndefined();
    }
    expect(store.get(windowKey(1, 0))?.[0]).toBe(1);
    expect(store.filteredReads).toBe(0);
  });

  it('filters nothing unless asked', async () => {
    const store = await openStore({ filterKeys: false });
    await store.write(writes(0, 100, 0));
    for (let n = 100; n < 200; n++) expect(mayHold(store, n, 0)).toBe(true);
    expect(store.filteredReads).toBe(0);
  });

  it('is asked for by the dedupe store, and refused for a key-value store (it filters time segments)', () => {
    expect(dedupeStoreSpec(86_400_000).keyFilter).toBe(true);
    const spec = { name: 'kv', kind: 'keyValue' as const, persistent: true, caching: false, logging: false, valueSerde: jsonSerde<number>(), keyFilter: true };
    expect(() => createKeyValueStore(spec, { stateDir: dir, taskId: '0_0', currentTimestampMs: () => 0 })).toThrow(/keyFilter needs a window store/);
  });
});
