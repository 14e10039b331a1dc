/**
 * Scans are snapshots: interactive queries read a task's stores while the
 * task keeps processing and committing, so a scan must show the store as it
 * was at the moment the scan started — flushes being written included,
 * writes and flushes made later excluded.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jsonSerde } from '../../schemas/index.js';
import { createKeyValueStore, createWindowStore, type KeyValueStateStore, type WindowStateStore } from '../../state/index.js';
import { collect } from './collect.js';

let stateDir: string;
const opened: { close(): Promise<void> }[] = [];

beforeEach(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'tally-scan-'));
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  await rm(stateDir, { recursive: true, force: true });
});

async function openKeyValueStore(caching: boolean): Promise<KeyValueStateStore<number>> {
  const store = createKeyValueStore({ name: 'counts', kind: 'keyValue', persistent: true, caching, logging: false, valueSerde: jsonSerde<number>() }, { stateDir, taskId: '0_0', currentTimestampMs: () => 0 });
  await store.open();
  opened.push(store);
  return store;
}

/** Segments of 1 s: windows at 100 and 1 100 ms live in two LevelDB databases. */
async function openWindowStore(caching: boolean): Promise<WindowStateStore<number>> {
  const store = createWindowStore(
    { name: 'windows', kind: 'window', persistent: true, caching, logging: false, valueSerde: jsonSerde<number>(), retentionMs: 60_000, segmentIntervalMs: 1_000, windowSizeMs: 100 },
    { stateDir, taskId: '0_0', currentTimestampMs: () => 0 },
  );
  await store.open();
  opened.push(store);
  return store;
}

const cachingVariants = [
  { label: 'with a cache', caching: true },
  { label: 'without a cache', caching: false },
];

const key = (index: number): string => `customer-${String(index).padStart(5, '0')}`;

describe.each(cachingVariants)('a LevelDB key-value store $label', ({ caching }) => {
  it('shows every entry of a flush whose batch is still being written to a scan started meanwhile', async () => {
    const store = await openKeyValueStore(caching);
    for (let index = 0; index < 5; index++) store.put(key(index), index);
    await store.flush();
    for (let index = 0; index < 5; index++) store.put(key(index), 100 + index);
    store.put(key(5), 105);
    const flushing = store.flush();
    const scanned = await collect(store.prefixScan('customer-'));
    await flushing;
    expect(scanned.map((entry) => entry.value)).toEqual([100, 101, 102, 103, 104, 105]);
  });

  it('reads the store as it was when the scan started, while writes and flushes go on', async () => {
    const store = await openKeyValueStore(caching);
    // More entries than one native read fetches, so the scan spans several.
    const count = 2_500;
    for (let index = 0; index < count; index++) store.put(key(index), index);
    await store.flush();
    store.put(key(7), 7_000);
    const scan = store.prefixScan('customer-')[Symbol.asyncIterator]();
    const seen = [(await scan.next()).value as { key: string; value: number }];
    for (let index = 0; index < count; index++) store.put(key(index), -1);
    store.delete(key(count - 1));
    store.put(key(count), -1);
    await store.flush();
    store.put(key(1), -2);
    for (let step = await scan.next(); step.done !== true; step = await scan.next()) seen.push(step.value);
    expect(seen).toHaveLength(count);
    expect(seen.filter((entry) => entry.value < 0)).toEqual([]);
    expect(seen[7]?.value).toBe(7_000);
    expect(seen.at(-1)).toEqual({ key: key(count - 1), value: count - 1 });
  });
});

describe.each(cachingVariants)('a LevelDB window store $label', ({ caching }) => {
  it('reads every segment as it was when the scan started, though a later segment is written while an earlier one is read', async () => {
    const store = await openWindowStore(caching);
    store.put('a', 100, 1);
    store.put('b', 100, 2);
    store.put('a', 1_100, 3);
    await store.flush();
    const scan = store.fetchAll(0, 2_000)[Symbol.asyncIterator]();
    const first = await scan.next();
    store.put('a', 1_100, -3);
    store.put('c', 1_200, -4);
    await store.flush();
    const rest = [];
    for (let step = await scan.next(); step.done !== true; step = await scan.next()) rest.push(step.value);
    expect([first.value, ...rest].map((entry) => `${entry.key}@${entry.windowStartMs}=${entry.value}`)).toEqual(['a@100=1', 'b@100=2', 'a@1100=3']);
    expect((await collect(store.fetchAll(0, 2_000))).map((entry) => entry.value)).toEqual([1, 2, -3, -4]);
  });

  it('shows the windows of a flush still being written to a scan started meanwhile', async () => {
    const store = await openWindowStore(caching);
    store.put('a', 100, 1);
    await store.flush();
    store.put('a', 100, 2);
    store.put('a', 1_100, 3);
    const flushing = store.flush();
    const scanned = await collect(store.fetchAll(0, 2_000));
    await flushing;
    expect(scanned.map((entry) => `${entry.key}@${entry.windowStartMs}=${entry.value}`)).toEqual(['a@100=2', 'a@1100=3']);
  });
});
