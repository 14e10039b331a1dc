import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jsonSerde } from '../../schemas/index.js';
import { createKeyValueStore, createWindowStore, type BytesWrite, type StoreSpec, type WindowEntry, type WindowStateStore } from '../../state/index.js';
import { decodeChangelogBatch, encodeChangelogBatch, isChangelogBatchKey, maxChangelogBatchBytes } from '../../state/changelog-batch.js';
import { encodeWindowKey } from '../../state/key-codec.js';

let stateDir: string;
const opened: WindowStateStore<number>[] = [];

beforeEach(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'tally-batch-'));
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  await rm(stateDir, { recursive: true, force: true });
});

function spec(overrides: Partial<StoreSpec<number>> = {}): StoreSpec<number> {
  return { name: 'seen', kind: 'window', persistent: true, caching: true, logging: true, logBatches: true, valueSerde: jsonSerde<number>(), retentionMs: 10_000, segmentIntervalMs: 5_000, ...overrides };
}

async function openStore(taskId: string, records: BytesWrite[] = [], overrides: Partial<StoreSpec<number>> = {}): Promise<WindowStateStore<number>> {
  const changelog = { append: (key: Buffer, value: Buffer | null) => void records.push({ key, value }) };
  const store = createWindowStore(spec(overrides), { stateDir, taskId, changelog, currentTimestampMs: () => 0 });
  await store.open();
  opened.push(store);
  return store;
}

async function all(store: WindowStateStore<number>): Promise<string[]> {
  const out: WindowEntry<number>[] = [];
  for await (const entry of store.all()) out.push(entry);
  return out.map((e) => `${e.key}@${e.windowStartMs}=${e.value}`).sort();
}

describe('batched changelogs of write-once window stores', () => {
  it('encode and decode writes and deletes exactly', () => {
    const writes = [
      { key: Buffer.from('a'), value: Buffer.from('1') },
      { key: Buffer.from(''), value: null },
      { key: Buffer.from([0, 1, 2]), value: Buffer.alloc(0) },
    ];
    expect(decodeChangelogBatch(encodeChangelogBatch(writes))).toEqual(writes);
    expect(() => decodeChangelogBatch(Buffer.from([9, 0, 0, 0, 0]))).toThrow(/version 9/);
  });

  it('never mistakes a store key for a batch key', () => {
    for (const key of ['', 'a', '\u0000', '\u00ff', '["bench","e-1"]']) {
      expect(isChangelogBatchKey(encodeWindowKey(key, 0))).toBe(false);
      expect(isChangelogBatchKey(encodeWindowKey(key, Number.MAX_SAFE_INTEGER))).toBe(false);
    }
  });

  it('logs a flush of many keys as a few batch records, and a fresh store restores the same state from them', async () => {
    const records: BytesWrite[] = [];
    const store = await openStore('0_0', records);
    const expected: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const key = `["source","event-${i}"]`;
      await store.put(key, (i % 2) * 5_000, i);
      expected.push(`${key}@${(i % 2) * 5_000}=${i}`);
    }
    await store.flush();
    expect(records.length).toBeGreaterThan(1); // split by size, not one record per key
    expect(records.length).toBeLessThan(20);
    for (const record of records) {
      expect(isChangelogBatchKey(record.key)).toBe(true);
      expect(record.value?.length ?? 0).toBeLessThan(maxChangelogBatchBytes + 1_024);
    }
    expect(new Set(records.map((r) => r.key.toString('hex'))).size).toBe(records.length); // unique keys: compaction removes none
    const restored = await openStore('1_0');
    await restored.restore(records);
    expect(await all(restored)).toEqual(expected.sort());
    expect(await restored.fetch('["source","event-7"]', 5_000)).toBe(7);
  });

  it('restores a changelog that mixes per-key records with batches, in order', async () => {
    const records: BytesWrite[] = [{ key: encodeWindowKey('old', 0), value: Buffer.from('1') }];
    const store = await openStore('0_0', records);
    await store.put('new', 5_000, 2);
    await store.flush();
    records.push({ key: encodeWindowKey('old', 0), value: null });
    const restored = await openStore('1_0');
    await restored.restore(records);
    expect(await all(restored)).toEqual(['new@5000=2']);
  });

  it('gives batch keys that differ between store instances, so two owners never overwrite each other', async () => {
    const first: BytesWrite[] = [];
    const second: BytesWrite[] = [];
    await (await openStore('0_0', first)).put('a', 0, 1);
    await opened[0]?.flush();
    await (await openStore('1_0', second)).put('a', 0, 1);
    await opened[1]?.flush();
    expect(first[0]?.key.equals(second[0]?.key as Buffer)).toBe(false);
  });

  it('is refused for key-value stores, whose changelogs have no time retention', () => {
    const kv = { ...spec(), kind: 'keyValue' as const, retentionMs: undefined, segmentIntervalMs: undefined };
    expect(() => createKeyValueStore(kv, { stateDir, taskId: '0_0', changelog: { append: () => undefined }, currentTimestampMs: () => 0 })).toThrow(/logBatches needs a window store/);
  });
});
