import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jsonSerde } from '../../schemas/index.js';
import {
  createKeyValueStore,
  type BytesWrite,
  type CacheFlushEntry,
  type ChangelogWriter,
  type KeyValue,
  type KeyValueStateStore,
  type StoreSpec,
} from '../../state/index.js';
import { encodeKey } from '../../state/key-codec.js';
import { collect } from './collect.js';

interface Counter {
  readonly count: number;
}

interface LoggedRecord {
  readonly key: string;
  readonly value: Counter | null;
  readonly timestampMs: number;
}

function recordingChangelog(): ChangelogWriter & { records: LoggedRecord[] } {
  const records: LoggedRecord[] = [];
  return {
    records,
    append(key, value, timestampMs) {
      records.push({ key: key.toString('latin1'), value: value === null ? null : (JSON.parse(value.toString()) as Counter), timestampMs });
    },
  };
}

const keysOf = (entries: readonly KeyValue<Counter>[]): string[] => entries.map((entry) => entry.key);

function spec(overrides: Partial<StoreSpec<Counter>> = {}): StoreSpec<Counter> {
  return { name: 'counts', kind: 'keyValue', persistent: false, caching: false, logging: true, valueSerde: jsonSerde<Counter>(), ...overrides };
}

let stateDir: string;
let nowMs: number;
const opened: KeyValueStateStore<Counter>[] = [];

beforeEach(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'tally-kv-'));
  nowMs = 1_000;
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  await rm(stateDir, { recursive: true, force: true });
});

async function openStore(overrides: Partial<StoreSpec<Counter>> = {}, changelog?: ChangelogWriter): Promise<KeyValueStateStore<Counter>> {
  const store = createKeyValueStore(spec({ logging: changelog !== undefined, ...overrides }), { stateDir, taskId: '0_0', changelog, currentTimestampMs: () => nowMs });
  await store.open();
  opened.push(store);
  return store;
}

const variants = [
  { label: 'in memory without cache', persistent: false, caching: false },
  { label: 'in memory with cache', persistent: false, caching: true },
  { label: 'on LevelDB without cache', persistent: true, caching: false },
  { label: 'on LevelDB with cache', persistent: true, caching: true },
];

describe.each(variants)('a key-value store $label', ({ persistent, caching }) => {
  it('gets what was put and nothing after a delete', async () => {
    const store = await openStore({ persistent, caching });
    expect(await store.get('a')).toBeUndefined();
    await store.put('a', { count: 1 });
    await store.put('a', { count: 2 });
    expect(await store.get('a')).toEqual({ count: 2 });
    await store.delete('a');
    expect(await store.get('a')).toBeUndefined();
  });

  it('scans ranges, prefixes and everything in UTF-8 byte order', async () => {
    const store = await openStore({ persistent, caching });
    const keys = ['b', 'a', 'ab', 'a\u0000', 'a\u0000z', 'é', 'abc', 'c'];
    for (const [index, key] of keys.entries()) await store.put(key, { count: index });
    await store.flush();
    await store.put('aa', { count: 99 });
    expect(keysOf(await collect(store.all()))).toEqual(['a', 'a\u0000', 'a\u0000z', 'aa', 'ab', 'abc', 'b', 'c', 'é']);
    expect(keysOf(await collect(store.range('a\u0000', 'ab')))).toEqual(['a\u0000', 'a\u0000z', 'aa']);
    expect(keysOf(await collect(store.range(undefined, 'a\u0000')))).toEqual(['a']);
    expect(keysOf(await collect(store.range('c')))).toEqual(['c', 'é']);
    expect(keysOf(await collect(store.prefixScan('a')))).toEqual(['a', 'a\u0000', 'a\u0000z', 'aa', 'ab', 'abc']);
    expect(keysOf(await collect(store.prefixScan('a\u0000')))).toEqual(['a\u0000', 'a\u0000z']);
    expect(keysOf(await collect(store.prefixScan('ab')))).toEqual(['ab', 'abc']);
    expect(await collect(store.prefixScan('x'))).toEqual([]);
    expect((await collect(store.range('abc', 'abc'))).length).toBe(0);
  });

  it('logs every write that reaches the bytes store with its timestamp', async () => {
    const changelog = recordingChangelog();
    const store = await openStore({ persistent, caching }, changelog);
    await store.put('a', { count: 1 }, 5);
    nowMs = 7;
    await store.delete('b');
    await store.flush();
    expect(changelog.records).toEqual([
      { key: encodeKey('a').toString('latin1'), value: { count: 1 }, timestampMs: 5 },
      { key: encodeKey('b').toString('latin1'), value: null, timestampMs: 7 },
    ]);
  });

  it('writes the metadata of a flush so that readMeta returns it', async () => {
    const store = await openStore({ persistent, caching });
    await store.put('a', { count: 1 });
    await store.flush(new Map([['offset', Buffer.from('42')]]));
    expect((await store.readMeta('offset'))?.toString()).toBe('42');
    expect(await store.readMeta('missing')).toBeUndefined();
  });

  it('restores records without logging them and makes them readable', async () => {
    const changelog = recordingChangelog();
    const store = await openStore({ persistent, caching }, changelog);
    await store.get('r');
    const records: BytesWrite[] = [
      { key: encodeKey('r'), value: Buffer.from('{"count":3}') },
      { key: encodeKey('s'), value: Buffer.from('{"count":4}') },
      { key: encodeKey('s'), value: null },
    ];
    await store.restore(records, new Map([['offset', Buffer.from('3')]]));
    expect(changelog.records).toEqual([]);
    expect(await store.get('r')).toEqual({ count: 3 });
    expect(await store.get('s')).toBeUndefined();
    expect((await store.readMeta('offset'))?.toString()).toBe('3');
  });
});

describe('a LevelDB key-value store', () => {
  it('has the same data and metadata after close and reopen', async () => {
    const first = await openStore({ persistent: true, caching: true });
    await first.put('a', { count: 1 });
    await first.put('b\u0000', { count: 2 });
    await first.flush(new Map([['checkpoint', Buffer.from('17')]]));
    await first.close();
    const second = await openStore({ persistent: true, caching: true });
    expect(await collect(second.all())).toEqual([
      { key: 'a', value: { count: 1 } },
      { key: 'b\u0000', value: { count: 2 } },
    ]);
    expect((await second.readMeta('checkpoint'))?.toString()).toBe('17');
  });

  it('lives at <stateDir>/<taskId>/<storeName>', async () => {
    const store = createKeyValueStore(spec({ persistent: true, logging: false }), { stateDir, taskId: '1_2', currentTimestampMs: () => 0 });
    await store.open();
    await store.close();
    expect(existsSync(path.join(stateDir, '1_2', 'counts', 'CURRENT'))).toBe(true);
  });

  it('refuses a persistent spec without a state directory, saying what to set', () => {
    expect(() => createKeyValueStore(spec({ persistent: true }), { taskId: '0_0', currentTimestampMs: () => 0 })).toThrow(
      /app\.stateDir/,
    );
  });

  it('removes its data on destroy so the next store starts empty', async () => {
    const store = await openStore({ persistent: true, caching: true });
    await store.put('a', { count: 1 });
    await store.flush();
    await store.destroy();
    const again = await openStore({ persistent: true, caching: true });
    expect(await collect(again.all())).toEqual([]);
  });
});

describe('the record cache', () => {
  it('coalesces three puts to one key into one changelog record and one listener call per flush', async () => {
    const changelog = recordingChangelog();
    const store = await openStore({ caching: true, persistent: true }, changelog);
    const changes: CacheFlushEntry<Counter>[] = [];
    store.setFlushListener((change) => {
      changes.push(change);
    });
    await store.put('k', { count: 1 }, 10);
    await store.put('k', { count: 2 }, 11);
    await store.put('k', { count: 3 }, 12);
    expect(changelog.records).toEqual([]);
    await store.flush();
    expect(changelog.records).toHaveLength(1);
    expect(changelog.records[0]?.value).toEqual({ count: 3 });
    expect(changes).toEqual([{ key: 'k', windowStartMs: undefined, newValue: { count: 3 }, oldValue: undefined, timestampMs: 12 }]);

    await store.put('k', { count: 4 }, 13);
    await store.put('k', { count: 5 }, 14);
    await store.flush();
    expect(changelog.records).toHaveLength(2);
    expect(changes[1]).toEqual({ key: 'k', windowStartMs: undefined, newValue: { count: 5 }, oldValue: { count: 3 }, timestampMs: 14 });
    await store.flush();
    expect(changes).toHaveLength(2);
  });

  it('reports the stored value as oldValue for a key written without being read first', async () => {
    const store = await openStore({ caching: true, persistent: true });
    await store.put('k', { count: 1 });
    await store.flush();
    await store.close();
    const reopened = await openStore({ caching: true, persistent: true });
    const changes: CacheFlushEntry<Counter>[] = [];
    reopened.setFlushListener((change) => {
      changes.push(change);
    });
    await reopened.delete('k', 20);
    await reopened.flush();
    expect(changes).toEqual([{ key: 'k', windowStartMs: undefined, newValue: undefined, oldValue: { count: 1 }, timestampMs: 20 }]);
  });

  it('reads no old value for a listener that does not want them (sendOldValues: false), but keeps one it already has', async () => {
    const store = await openStore({ caching: true, persistent: true });
    await store.put('k', { count: 1 });
    await store.put('read', { count: 1 });
    await store.flush();
    await store.close();
    const reopened = await openStore({ caching: true, persistent: true });
    const changes: CacheFlushEntry<Counter>[] = [];
    reopened.setFlushListener((change) => void changes.push(change), { sendOldValues: false });
    expect(await reopened.get('read')).toEqual({ count: 1 });
    await reopened.put('read', { count: 2 }, 21);
    await reopened.put('k', { count: 2 }, 20);
    await reopened.flush();
    expect(changes).toEqual([
      { key: 'read', windowStartMs: undefined, newValue: { count: 2 }, oldValue: { count: 1 }, timestampMs: 21 },
      { key: 'k', windowStartMs: undefined, newValue: { count: 2 }, oldValue: undefined, timestampMs: 20 },
    ]);
  });

  it('calls the listener in the order of the last write to each key', async () => {
    const store = await openStore({ caching: true });
    const keys: string[] = [];
    store.setFlushListener((change) => {
      keys.push(change.key);
    });
    await store.put('b', { count: 1 });
    await store.put('a', { count: 1 });
    await store.put('c', { count: 1 });
    await store.put('b', { count: 2 });
    await store.flush();
    expect(keys).toEqual(['a', 'c', 'b']);
  });

  it('keeps dirty entries past capacity until the flush, asking for it, and evicts clean ones', async () => {
    const changelog = recordingChangelog();
    const store = await openStore({ caching: true, cacheMaxEntries: 2 }, changelog);
    const changes: string[] = [];
    store.setFlushListener((change) => {
      changes.push(change.key);
    });
    store.put('a', { count: 1 });
    store.put('b', { count: 2 });
    expect(store.needsFlush).toBe(false);
    store.put('c', { count: 3 });
    // Nothing is written between flushes: the per-record path never waits for I/O.
    expect(changelog.records).toEqual([]);
    expect(changes).toEqual([]);
    expect(store.needsFlush).toBe(true);
    await store.flush();
    expect(changelog.records.map((record) => record.value)).toEqual([{ count: 1 }, { count: 2 }, { count: 3 }]);
    expect(changes).toEqual(['a', 'b', 'c']);
    // Clean entries past capacity are evicted on the next write; reads still find them in the store.
    store.put('d', { count: 4 });
    expect(store.needsFlush).toBe(false);
    store.discardCache();
    expect(store.get('a')).toEqual({ count: 1 });
    expect(store.get('d')).toBeUndefined();
  });

  it('lets scans see dirty entries and hides deleted ones', async () => {
    const store = await openStore({ caching: true, persistent: true });
    await store.put('a', { count: 1 });
    await store.put('b', { count: 2 });
    await store.put('c', { count: 3 });
    await store.flush();
    await store.delete('b');
    await store.put('c', { count: 30 });
    await store.put('d', { count: 4 });
    await store.put('e', { count: 5 });
    await store.delete('e');
    expect(await collect(store.all())).toEqual([
      { key: 'a', value: { count: 1 } },
      { key: 'c', value: { count: 30 } },
      { key: 'd', value: { count: 4 } },
    ]);
    expect(keysOf(await collect(store.range('b', 'd')))).toEqual(['c']);
  });

  it('drops un-flushed writes on discardCache and keeps flushed ones', async () => {
    const changelog = recordingChangelog();
    const store = await openStore({ caching: true, persistent: true }, changelog);
    await store.put('a', { count: 1 });
    await store.flush();
    await store.put('a', { count: 2 });
    await store.put('b', { count: 1 });
    store.discardCache();
    await store.flush();
    expect(await store.get('a')).toEqual({ count: 1 });
    expect(await store.get('b')).toBeUndefined();
    expect(changelog.records).toHaveLength(1);
  });

  it('does not touch the bytes store or changelog before flush', async () => {
    const changelog = recordingChangelog();
    const store = await openStore({ caching: true, persistent: true }, changelog);
    await store.put('a', { count: 1 });
    await store.close();
    const reopened = await openStore({ caching: true, persistent: true }, changelog);
    expect(await reopened.get('a')).toBeUndefined();
    expect(changelog.records).toEqual([]);
  });
});

describe('store factory', () => {
  it('refuses a logged store without a changelog writer instead of silently not logging', () => {
    expect(() => createKeyValueStore(spec({ logging: true }), { taskId: '0_0', currentTimestampMs: () => 0 })).toThrow(/logging is on but no changelog writer was given/);
  });
});

describe('flush listeners', () => {
  it('calls the listener for each entry in write order when flush is called, before the batch is written', async () => {
    const store = createKeyValueStore(spec({ caching: true, logging: false }), { taskId: '0_0', currentTimestampMs: () => 0 });
    await store.open();
    const events: string[] = [];
    store.setFlushListener((change) => {
      // The state is consistent when the listener runs: the store reads the flushed value.
      events.push(`${change.key}=${JSON.stringify(store.get(change.key))}`);
    });
    store.put('b', { count: 2 });
    store.put('a', { count: 1 });
    const flushing = store.flush();
    events.push('flush started');
    await flushing;
    events.push('flushed');
    expect(events).toEqual(['b={"count":2}', 'a={"count":1}', 'flush started', 'flushed']);
    await store.close();
  });

  it('refuses a listener on a store without caching, saying why', async () => {
    const store = createKeyValueStore(spec({ caching: false, logging: false }), { taskId: '0_0', currentTimestampMs: () => 0 });
    expect(() => store.setFlushListener(() => undefined)).toThrow(/has no cache/);
  });
});
