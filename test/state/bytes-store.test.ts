import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateStoreError } from '../../schemas/index.js';
import { LevelBytesStore, levelDatabaseStats, MemoryBytesStore, type BytesStore } from '../../state/index.js';

let dir: string;
const toClose: BytesStore[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tally-bytes-'));
});

afterEach(async () => {
  for (const store of toClose.splice(0)) await store.close();
  await rm(dir, { recursive: true, force: true });
});

async function collect(store: BytesStore, range?: Parameters<BytesStore['entries']>[0]): Promise<string[]> {
  const out: string[] = [];
  for await (const [key, value] of store.entries(range)) out.push(`${key.toString('hex')}=${value.toString()}`);
  return out;
}

const b = (hex: string): Buffer => Buffer.from(hex, 'hex');
const v = (text: string): Buffer => Buffer.from(text);

const kinds = [
  { label: 'in memory', make: (): BytesStore => new MemoryBytesStore() },
  { label: 'on LevelDB', make: (): BytesStore => new LevelBytesStore(path.join(dir, 'db')) },
];

describe.each(kinds)('a bytes store $label', ({ make }) => {
  async function open(): Promise<BytesStore> {
    const store = make();
    await store.open();
    toClose.push(store);
    return store;
  }

  it('orders keys by unsigned byte comparison, forwards and backwards', async () => {
    const store = await open();
    const keys = ['ff', '00', '0000', '01', '7f', '80', '', '0100'];
    await store.write(keys.map((key) => ({ key: b(key), value: v(key) })));
    const sorted = keys.map(b).sort(Buffer.compare).map((key) => `${key.toString('hex')}=${key.toString('hex')}`);
    expect(await collect(store)).toEqual(sorted);
    expect(await collect(store, { reverse: true })).toEqual([...sorted].reverse());
    expect(await collect(store, { gte: b('01'), lt: b('80') })).toEqual(['01=01', '0100=0100', '7f=7f']);
    expect(await collect(store, { gte: b('01'), lt: b('80'), reverse: true })).toEqual(['7f=7f', '0100=0100', '01=01']);
  });

  it('applies puts and deletes in one write and never lists metadata as data', async () => {
    const store = await open();
    await store.write([{ key: b('01'), value: v('a') }, { key: b('02'), value: v('b') }], new Map([['offset', v('9')]]));
    await store.write([{ key: b('01'), value: null }, { key: b('03'), value: v('c') }]);
    expect(await collect(store)).toEqual(['02=b', '03=c']);
    expect((await store.get(b('02')))?.toString()).toBe('b');
    expect(await store.get(b('01'))).toBeUndefined();
    expect((await store.readMeta('offset'))?.toString()).toBe('9');
  });

  it('keeps iterating correctly while keys are inserted and deleted under it', async () => {
    const store = await open();
    await store.write(['10', '20', '30', '40'].map((key) => ({ key: b(key), value: v(key) })));
    const seen: string[] = [];
    for await (const [key] of store.entries()) {
      seen.push(key.toString('hex'));
      if (key.toString('hex') === '20') await store.write([{ key: b('05'), value: v('x') }, { key: b('30'), value: null }]);
    }
    // LevelDB iterates a snapshot; memory sees later writes but never repeats or skips a surviving key.
    expect(seen.slice(0, 2)).toEqual(['10', '20']);
    expect(seen).toContain('40');
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('refuses reads after close with a state-closed error', async () => {
    const store = await open();
    await store.close();
    await expect(async () => store.get(b('01'))).rejects.toMatchObject({ code: 'state-closed' });
  });
});

describe('a LevelDB bytes store', () => {
  it('keeps data and metadata written in one batch across reopen', async () => {
    const location = path.join(dir, 'db');
    const first = new LevelBytesStore(location);
    await first.open();
    await first.write([{ key: b('aa'), value: v('1') }], new Map([['checkpoint', v('100')]]));
    await first.close();
    const second = new LevelBytesStore(location);
    await second.open();
    toClose.push(second);
    expect(await collect(second)).toEqual(['aa=1']);
    expect((await second.readMeta('checkpoint'))?.toString()).toBe('100');
  });

  it('reports a directory held by another store as state-locked, naming the path and what to do', async () => {
    const location = path.join(dir, 'db');
    const holder = new LevelBytesStore(location);
    await holder.open();
    toClose.push(holder);
    const error = await new LevelBytesStore(location).open().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(StateStoreError);
    expect(error).toMatchObject({ code: 'state-locked', retriable: true });
    expect((error as Error).message).toContain(location);
    expect((error as Error).message).toMatch(/another Tally instance.*app\.stateDir/s);
  });

  it('closes with a scan still open, and the scan then fails as state-closed instead of reading on', async () => {
    const store = new LevelBytesStore(path.join(dir, 'db'));
    await store.open();
    await store.write(Array.from({ length: 1500 }, (_, index) => ({ key: Buffer.from([index >> 8, index & 0xff]), value: v(String(index)) })));
    const iterator = store.entries()[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    await store.close();
    const drain = async (): Promise<number> => {
      let count = 1;
      while (!(await iterator.next()).done) count++;
      return count;
    };
    await expect(drain()).rejects.toMatchObject({ code: 'state-closed' });
    const reopened = new LevelBytesStore(path.join(dir, 'db'));
    await reopened.open();
    toClose.push(reopened);
    expect(await collect(reopened)).toHaveLength(1500);
  });

  it.each([
    { file: 'CURRENT', garbage: 'MANIFEST-999999\n' },
    { file: 'CURRENT', garbage: 'garbage without newline' },
    { file: 'MANIFEST', garbage: 'this is not a LevelDB manifest at all'.repeat(4) },
  ])('reports garbage in $file as state-corrupt and says to delete the directory', async ({ file, garbage }) => {
    const location = path.join(dir, 'db');
    const store = new LevelBytesStore(location);
    await store.open();
    await store.write([{ key: b('01'), value: v('x') }]);
    await store.close();
    const target = (await readdir(location)).find((name) => name.startsWith(file)) as string;
    await writeFile(path.join(location, target), garbage);
    const error = await new LevelBytesStore(location).open().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: 'state-corrupt' });
    expect((error as Error).message).toContain(`Delete the directory ${location}`);
    expect((error as Error).message).toMatch(/changelog/);
  });

  it('removes its directory on destroy', async () => {
    const location = path.join(dir, 'db');
    const store = new LevelBytesStore(location);
    await store.open();
    await store.write([{ key: b('01'), value: v('x') }]);
    await store.destroy();
    expect(existsSync(location)).toBe(false);
  });

  it('counts the databases open in the process, once each, and their configured memory', async () => {
    const before = levelDatabaseStats();
    const first = new LevelBytesStore(path.join(dir, 'one'));
    const second = new LevelBytesStore(path.join(dir, 'two'));
    await first.open();
    await first.open();
    await second.open();
    const open = levelDatabaseStats();
    expect(open.open).toBe(before.open + 2);
    expect(open.configuredBytes - before.configuredBytes).toBe(2 * (open.configuredBytes / open.open));
    expect(open.configuredBytes).toBeGreaterThan(0);
    await first.close();
    await first.close();
    expect(levelDatabaseStats().open).toBe(before.open + 1);
    await second.destroy();
    expect(levelDatabaseStats()).toEqual(before);
  });
});
