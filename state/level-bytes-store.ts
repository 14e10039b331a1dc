/**
 * The LevelDB bytes store (classic-level). Data and metadata share one
 * database under different first bytes, so a write and its checkpoint land in
 * one atomic batch.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { ClassicLevel } from 'classic-level';
import { StateStoreError } from '../schemas/index.js';
import type { BytesRange, BytesStore, BytesWrite } from './types.js';

/** First byte of every data key ('d'). */
const dataPrefix = 0x64;
/** First byte of every metadata key ('m'). */
const metaPrefix = 0x6d;
const dataStart = Buffer.from([dataPrefix]);
const dataEnd = Buffer.from([dataPrefix + 1]);
/**
 * Memory of one database. An instance opens many (a few stores per task,
 * one per time segment of a window store), and LevelDB's defaults (8 MiB
 * block cache, 4 MiB write buffer) would add up to hundreds of MiB: the
 * record caches in front hold the hot entries, and the OS page cache the
 * files. So each database gets 1 MiB of block cache and a 1 MiB write buffer.
 */
const levelMemory = { cacheSize: 1024 * 1024, writeBufferSize: 1024 * 1024 } as const;
/** Databases open in this process now, for the memory report. */
let openDatabases = 0;

/**
 * LevelDB databases this process has open and the memory they are configured
 * with (block cache + write buffer each): a diagnostic of where memory goes.
 */
export function levelDatabaseStats(): { readonly open: number; readonly configuredBytes: number } {
  return { open: openDatabases, configuredBytes: openDatabases * (levelMemory.cacheSize + levelMemory.writeBufferSize) };
}

/** Entries fetched per native call while scanning. */
const scanBatchSize = 1000;

type Db = ClassicLevel<Buffer, Buffer>;
interface Closable {
  close(): Promise<void>;
}

function prefixed(prefix: number, key: Buffer): Buffer {
  const out = Buffer.allocUnsafe(key.length + 1);
  out[0] = prefix;
  key.copy(out, 1);
  return out;
}

function metaKey(name: string): Buffer {
  return prefixed(metaPrefix, Buffer.from(name, 'utf8'));
}

/**
 * One LevelDB directory. LevelDB writes are not fsynced: after a crash the
 * changelog topic, not these files, is the truth (restore from the checkpoint).
 */
export class LevelBytesStore implements BytesStore {
  #db: Db | undefined;
  /** Open iterators, closed before the database: LevelDB must not close under a live iterator. */
  readonly #iterators = new Set<Closable>();

  /** `location` is the database directory; parents are created on open. */
  constructor(readonly location: string) {}

  async open(): Promise<void> {
    if (this.#db !== undefined) return;
    await mkdir(this.location, { recursive: true });
    const db: Db = new ClassicLevel<Buffer, Buffer>(this.location, {
      keyEncoding: 'buffer',
      valueEncoding: 'buffer',
      createIfMissing: true,
      ...levelMemory,
    });
    try {
      await db.open();
    } catch (error) {
      throw openError(this.location, error);
    }
    this.#db = db;
    openDatabases++;
  }

  get(key: Buffer): Buffer | undefined {
    // Synchronous like RocksDB gets in Kafka Streams: a cache miss mostly hits LevelDB's block
    // cache, and skipping the thread-pool round trip halves the cost of a miss.
    return this.#openDb().getSync(prefixed(dataPrefix, key));
  }

  async write(writes: readonly BytesWrite[], meta?: ReadonlyMap<string, Buffer>): Promise<void> {
    if (writes.length === 0 && (meta === undefined || meta.size === 0)) return;
    // A chained batch: each operation goes straight into LevelDB's write batch, where an array
    // batch has every operation cloned and read back on the main thread (2x its CPU there).
    const batch = this.#openDb().batch();
    try {
      for (const { key, value } of writes) {
        if (value === null) batch.del(prefixed(dataPrefix, key));
        else batch.put(prefixed(dataPrefix, key), value);
      }
      if (meta !== undefined) for (const [name, value] of meta) batch.put(metaKey(name), value);
    } catch (error) {
      await batch.close();
      throw error;
    }
    await batch.write();
  }

  async readMeta(name: string): Promise<Buffer | undefined> {
    return this.#openDb().get(metaKey(name));
  }

  async *entries(range: BytesRange = {}): AsyncGenerator<readonly [Buffer, Buffer]> {
    const iterator = this.#openDb().iterator({
      gte: range.gte === undefined ? dataStart : prefixed(dataPrefix, range.gte),
      lt: range.lt === undefined ? dataEnd : prefixed(dataPrefix, range.lt),
      reverse: range.reverse === true,
    });
    this.#iterators.add(iterator);
    try {
      for (;;) {
        const batch = await iterator.nextv(scanBatchSize).catch((error: unknown) => {
          if (this.#db !== undefined) throw error;
          throw new StateStoreError('state-closed', `state store at ${this.location} was closed during a scan`, { cause: error });
        });
        if (batch.length === 0) return;
        for (const [key, value] of batch) yield [key.subarray(1), value];
      }
    } finally {
      this.#iterators.delete(iterator);
      await iterator.close();
    }
  }

  async close(): Promise<void> {
    const db = this.#db;
    if (db === undefined) return;
    this.#db = undefined;
    openDatabases--;
    const iterators = [...this.#iterators];
    this.#iterators.clear();
    await Promise.all(iterators.map((iterator) => iterator.close()));
    await db.close();
  }

  async destroy(): Promise<void> {
    await this.close();
    await rm(this.location, { recursive: true, force: true });
  }

  #openDb(): Db {
    if (this.#db === undefined) {
      throw new StateStoreError('state-closed', `state store at ${this.location} is not open; open() it first (or it was closed)`);
    }
    return this.#db;
  }
}

function levelCode(error: unknown): { code: string | undefined; detail: string } {
  const outer = error as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  const cause = outer.cause ?? outer;
  const code = typeof cause.code === 'string' ? cause.code : undefined;
  return { code, detail: String(cause.message ?? outer.message ?? error) };
}

/** Turns a classic-level open failure into an error that says what to do. */
function openError(location: string, error: unknown): StateStoreError {
  const { code, detail } = levelCode(error);
  if (code === 'LEVEL_LOCKED') {
    return new StateStoreError(
      'state-locked',
      `state store at ${location} is locked (${detail}): another Tally instance, or an old task of this one that has not closed yet, holds it. ` +
        'Stop the other instance, or give this one its own app.stateDir.',
      { cause: error, retriable: true },
    );
  }
  // A CURRENT file that names a missing manifest surfaces as an I/O error, but it is corruption.
  const missingManifest = code === 'LEVEL_IO_ERROR' && /no such file/i.test(detail) && existsSync(path.join(location, 'CURRENT'));
  if (code === 'LEVEL_CORRUPTION' || missingManifest) {
    return new StateStoreError(
      'state-corrupt',
      `state store at ${location} is corrupt (${detail}). Delete the directory ${location}; ` +
        'it is restored from its changelog topic on the next start.',
      { cause: error },
    );
  }
  return new StateStoreError('state-open-failed', `cannot open state store at ${location}: ${detail}`, { cause: error });
}
