import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jsonSerde } from '../../schemas/index.js';
import {
  CacheBudget,
  LevelBytesStore,
  createWindowStore,
  type CacheFlushEntry,
  type ChangelogWriter,
  type StoreSpec,
  type WindowEntry,
  type WindowStateStore,
} from '../../state/index.js';
import { encodeWindowKey } from '../../state/key-codec.js';
import { collect } from './collect.js';

let stateDir: string;
const opened: WindowStateStore<number>[] = [];

beforeEach(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'tally-window-'));
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  await rm(stateDir, { recursive: true, force: true });
});

/** Segments of 1 s, retention 3 s: small numbers keep the arithmetic readable. */
function spec(overrides: Partial<StoreSpec<number>> = {}): StoreSpec<number> {
  return {
    name: 'windows',
    kind: 'window',
    persistent: true,
    caching: false,
    logging: true,
    valueSerde: jsonSerde<number>(),
    retentionMs: 3_000,
    segmentIntervalMs: 1_000,
    windowSizeMs: 100,
    ...overrides,
  };
}

async function openStore(overrides: Partial<StoreSpec<number>> = {}, changelog?: ChangelogWriter): Promise<WindowStateStore<number>> {
  const store = createWindowStore(spec({ logging: changelog !== undefined, ...overrides }), { stateDir, taskId: '0_0', changelog, currentTimestampMs: () => 0 });
  await store.open();
  opened.push(store);
  return store;
}

const brief = (entries: readonly WindowEntry<number>[]): string[] => entries.map((entry) => `${entry.key}@${entry.windowStartMs}=${entry.value}`);
const storeDir = (): string => path.join(stateDir, '0_0', 'windows');
const segmentDirs = async (): Promise<string[]> => (await readdir(storeDir())).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(a) - Number(b));

const variants = [
  { label: 'in memory without cache', persistent: false, caching: false },
  { label: 'in memory with cache', persistent: false, caching: true },
  { label: 'on LevelDB without cache', persistent: true, caching: false },
  { label: 'on LevelDB with cache', persistent: true, caching: true },
];

describe.each(variants)('a window store $label', ({ persistent, caching }) => {
  it('fetches one window, one key\'s windows in time order, and every key\'s windows across segments', async () => {
    const store = await openStore({ persistent, caching });
    for (const startMs of [2_500, 100, 1_200, 0, 2_000]) await store.put('a', startMs, startMs);
    for (const startMs of [1_900, 300]) await store.put('b', startMs, startMs + 1);
    await store.put('a\u0000', 1_500, 7);
    expect(await store.fetch('a', 1_200)).toBe(1_200);
    expect(await store.fetch('a', 1_300)).toBeUndefined();
    expect(brief(await collect(store.fetchRange('a', 100, 2_000)))).toEqual(['a@100=100', 'a@1200=1200', 'a@2000=2000']);
    expect(brief(await collect(store.fetchRange('a', 0, Number.MAX_SAFE_INTEGER)))).toHaveLength(5);
    expect(brief(await collect(store.fetchAll(300, 1_999)))).toEqual(['b@300=301', 'a@1200=1200', 'a\u0000@1500=7', 'b@1900=1901']);
    expect(await collect(store.fetchRange('a', 2_000, 100))).toEqual([]);
    expect(brief(await collect(store.all()))).toEqual([
      'a@0=0', 'a@100=100', 'b@300=301',
      'a@1200=1200', 'a\u0000@1500=7', 'b@1900=1901',
      'a@2000=2000', 'a@2500=2500',
    ]);
  });

  it('ignores a put whose window start is at or behind observed time minus retention', async () => {
    const store = await openStore({ persistent, caching });
    expect(await store.put('a', 4_000, 1)).toBe(true);
    expect(await store.put('a', 1_000, 2)).toBe(false);
    expect(await store.put('a', 1_001, 3)).toBe(true);
    expect(await store.fetch('a', 1_000)).toBeUndefined();
    await store.flush();
    expect(brief(await collect(store.fetchRange('a', 0, 5_000)))).toEqual(['a@1001=3', 'a@4000=1']);
  });

  it('stops returning windows that expire as observed time advances', async () => {
    const store = await openStore({ persistent, caching });
    await store.put('a', 1_500, 1);
    await store.put('a', 2_500, 2);
    await store.flush();
    await store.put('b', 4_600, 3);
    expect(await store.fetch('a', 1_500)).toBeUndefined();
    expect(brief(await collect(store.all()))).toEqual(['a@2500=2', 'b@4600=3']);
  });

  it('sees dirty windows in range reads and hides deleted ones', async () => {
    const store = await openStore({ persistent, caching });
    await store.put('a', 0, 1);
    await store.put('a', 1_000, 2);
    await store.flush();
    await store.put('a', 1_000, undefined);
    await store.put('a', 500, 5);
    await store.put('b', 1_500, 6);
    expect(brief(await collect(store.fetchRange('a', 0, 2_000)))).toEqual(['a@0=1', 'a@500=5']);
    expect(brief(await collect(store.all()))).toEqual(['a@0=1', 'a@500=5', 'b@1500=6']);
  });
});

describe('the last read of a window (fetchFinal)', () => {
  it('caches nothing it reads and drops a clean cached entry, but keeps a dirty one until it is written', async () => {
    const budget = new CacheBudget(1 << 20);
    const open = async () => {
      const store = createWindowStore(spec({ caching: true, logging: false, cacheMaxEntries: 100 }), { stateDir, taskId: '0_0', currentTimestampMs: () => 0, cacheBudget: budget });
      await store.open();
      opened.push(store);
      return store;
    };
    const store = await open();
    store.put('a', 100, 1);
    await store.flush();
    expect(budget.usedBytes).toBeGreaterThan(0);
    expect(store.fetchFinal('a', 100)).toBe(1);
    expect(budget.usedBytes).toBe(0);
    expect(store.fetch('a', 100)).toBe(1); // from LevelDB, cached again
    expect(budget.usedBytes).toBeGreaterThan(0);

    store.put('b', 200, 2); // dirty: the final reads it, the flush still writes it
    const withDirty = budget.usedBytes;
    expect(store.fetchFinal('b', 200)).toBe(2);
    expect(budget.usedBytes).toBe(withDirty);
    await store.flush();
    await store.close();
    opened.splice(opened.indexOf(store), 1);

    const reopened = await open();
    expect(budget.usedBytes).toBe(0);
    expect(reopened.fetchFinal('b', 200)).toBe(2);
    expect(reopened.fetchFinal('a', 100)).toBe(1);
    expect(reopened.fetchFinal('c', 100)).toBeUndefined();
    expect(budget.usedBytes).toBe(0);
  });
});

describe.each([false, true])('a window store (caching %s) used while its flush is written', (caching) => {
  it('reads what the flush is writing, takes new writes, and the next flush writes them', async () => {
    const budget = new CacheBudget(1 << 20);
    const open = async () => {
      const store = createWindowStore(spec({ caching, logging: false, ...(caching ? { cacheMaxEntries: 100 } : {}) }), { stateDir, taskId: '0_0', currentTimestampMs: () => 0, cacheBudget: budget });
      await store.open();
      opened.push(store);
      return store;
    };
    const store = await open();
    for (let i = 0; i < 50; i++) store.put(`k${i}`, 100, i);
    const written = store.flush(); // not awaited: processing goes on
    expect(store.fetch('k7', 100)).toBe(7);
    expect(brief(await collect(store.fetchAll(0, 1_000))).length).toBe(50);
    store.put('k7', 100, 70);
    store.put('new', 200, 1);
    expect(store.fetch('k7', 100)).toBe(70);
    await written;
    expect(store.fetch('k8', 100)).toBe(8);
    await store.flush();
    await store.close();
    opened.splice(opened.indexOf(store), 1);
    const reopened = await open();
    expect(reopened.fetch('k7', 100)).toBe(70);
    expect(reopened.fetch('new', 200)).toBe(1);
    expect(reopened.fetch('k49', 100)).toBe(49);
  });
});

describe('window store retention on LevelDB', () => {
  it('drops a whole segment directory once every window in it has expired', async () => {
    const store = await openStore({ caching: true });
    await store.put('a', 500, 1);
    await store.put('a', 1_500, 2);
    await store.put('a', 2_500, 3);
    await store.flush();
    expect(await segmentDirs()).toEqual(['0', '1000', '2000']);
    await store.put('a', 4_000, 4);
    expect(await segmentDirs()).toEqual(['0', '1000', '2000']);
    await store.flush();
    // Threshold 4000 - 3000 = 1000: segment 0 holds starts <= 999, all expired; segment 1000 still holds 1001..1999.
    expect(await segmentDirs()).toEqual(['1000', '2000', '4000']);
    expect(existsSync(path.join(storeDir(), '0'))).toBe(false);
  });

  it('rediscovers its segments and observed time after reopen', async () => {
    const first = await openStore();
    await first.put('a', 500, 1);
    await first.put('a', 3_200, 2);
    await first.flush(new Map([['offset', Buffer.from('8')]]));
    await first.close();
    const second = await openStore();
    expect(second.observedTimeMs).toBe(3_200);
    expect(brief(await collect(second.all()))).toEqual(['a@500=1', 'a@3200=2']);
    expect(await second.put('a', 200, 9)).toBe(false);
    expect((await second.readMeta('offset'))?.toString()).toBe('8');
  });

  it('restores from the oldest checkpoint when one segment missed the latest batch', async () => {
    const first = await openStore();
    await first.put('a', 500, 1);
    await first.put('a', 1_500, 2);
    await first.flush(new Map([['offset', Buffer.from('10')]]));
    await first.put('a', 1_600, 3);
    await first.flush(new Map([['offset', Buffer.from('20')]]));
    await first.close();
    // Simulate a crash between segment batches: segment 0 still has the first checkpoint.
    const seq = Buffer.alloc(8);
    seq.writeBigUInt64BE(1n);
    const segment = new LevelBytesStore(path.join(storeDir(), '0'));
    await segment.open();
    await segment.write([], new Map([['\u0000metaSeq', seq], ['offset', Buffer.from('10')]]));
    await segment.close();
    const second = await openStore();
    expect((await second.readMeta('offset'))?.toString()).toBe('10');
  });

  it('keeps the checkpoint in its meta store while it has no segment', async () => {
    const first = await openStore();
    await first.flush(new Map([['offset', Buffer.from('0')]]));
    await first.close();
    const second = await openStore();
    expect((await second.readMeta('offset'))?.toString()).toBe('0');
  });

  it('restores changelog records without logging them, advancing observed time and applying retention', async () => {
    const logged: string[] = [];
    const store = await openStore({ caching: true }, { append: (key) => logged.push(key.toString('hex')) });
    await store.restore(
      [
        { key: encodeWindowKey('a', 100), value: Buffer.from('1') },
        { key: encodeWindowKey('a', 5_000), value: Buffer.from('2') },
        { key: encodeWindowKey('a', 1_000), value: Buffer.from('3') },
      ],
      new Map([['offset', Buffer.from('3')]]),
    );
    expect(logged).toEqual([]);
    expect(store.observedTimeMs).toBe(5_000);
    expect(brief(await collect(store.all()))).toEqual(['a@5000=2']);
    expect(await segmentDirs()).toEqual(['5000']);
  });

  it('reports window starts to the flush listener', async () => {
    const store = await openStore({ caching: true });
    const changes: CacheFlushEntry<number>[] = [];
    store.setFlushListener((change) => {
      changes.push(change);
    });
    await store.put('a', 1_000, 1, 1_050);
    await store.put('a', 1_000, 2, 1_060);
    await store.flush();
    expect(changes).toEqual([{ key: 'a', windowStartMs: 1_000, newValue: 2, oldValue: undefined, timestampMs: 1_060 }]);
  });

  it('reports a second open of the same store as state-locked', async () => {
    const first = await openStore();
    await first.put('a', 0, 1);
    const second = createWindowStore(spec({ logging: false }), { stateDir, taskId: '0_0', currentTimestampMs: () => 0 });
    await expect(second.open()).rejects.toMatchObject({ code: 'state-locked', message: expect.stringContaining(storeDir()) });
  });

  it('rejects a window spec without retention', () => {
    expect(() => createWindowStore(spec({ retentionMs: undefined }), { stateDir, taskId: '0_0', currentTimestampMs: () => 0 })).toThrow(
      /retentionMs/,
    );
  });
});
