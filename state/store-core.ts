/**
 * What key-value and window stores share: the layering cache → changelog hook
 * → bytes store, the commit-time flush, write-through, restoration, and scans
 * that merge un-flushed cache entries into bytes-store iteration.
 */
import type { Serde } from '../schemas/index.js';
import { ChangelogBatchWriter, expandChangelogBatches } from './changelog-batch.js';
import { RecordCache, type CacheEntry } from './record-cache.js';
import type {
  BytesStore,
  BytesWrite,
  CacheFlushEntry,
  CacheFlushListener,
  ChangelogWriter,
  StateStore,
  StoreKind,
} from './types.js';

export interface StoreCoreOptions<V> {
  readonly name: string;
  readonly persistent: boolean;
  readonly bytes: BytesStore;
  readonly valueSerde: Serde<V>;
  /** Receives every write that reaches the bytes store; undefined: not logged. */
  readonly changelog: ChangelogWriter | undefined;
  /** Cache capacity in entries; undefined: no cache, every write goes straight through. */
  readonly cacheMaxEntries: number | undefined;
  /** Timestamp for writes that do not give one. */
  readonly currentTimestampMs: () => number;
  /** Log each flush as batch records (write-once keys; see changelog-batch) instead of one record per key. */
  readonly logBatches?: boolean;
}

/** Eviction frees this share of the capacity at once, so evicted dirty entries are written in batches. */
const evictionFreeFraction = 0.1;

/**
 * A store is driven by one task, one call at a time: await each call before
 * the next (the flush listener may put into the store; those writes land in
 * the next flush).
 */
export abstract class StoreCore<V> implements StateStore {
  abstract readonly kind: StoreKind;
  readonly name: string;
  readonly persistent: boolean;
  protected readonly bytes: BytesStore;
  protected readonly valueSerde: Serde<V>;
  protected readonly cache: RecordCache<V> | undefined;
  protected readonly currentTimestampMs: () => number;
  readonly #changelog: ChangelogWriter | undefined;
  readonly #batchWriter: ChangelogBatchWriter | undefined;
  #listener: CacheFlushListener<V> | undefined;

  constructor(options: StoreCoreOptions<V>) {
    this.name = options.name;
    this.persistent = options.persistent;
    this.bytes = options.bytes;
    this.valueSerde = options.valueSerde;
    this.cache = options.cacheMaxEntries === undefined ? undefined : new RecordCache<V>(options.cacheMaxEntries);
    this.currentTimestampMs = options.currentTimestampMs;
    this.#changelog = options.changelog;
    this.#batchWriter = options.logBatches === true && options.changelog !== undefined ? new ChangelogBatchWriter(options.changelog) : undefined;
  }

  /**
   * Called once per coalesced change when the cache flushes or evicts; never
   * called when the store has no cache (every put is then its own change).
   */
  setFlushListener(listener: CacheFlushListener<V> | undefined): void {
    this.#listener = listener;
  }

  open(): Promise<void> {
    return this.bytes.open();
  }

  readMeta(name: string): Promise<Buffer | undefined> {
    return this.bytes.readMeta(name);
  }

  /**
   * Commit step: 1. serialize every dirty entry, 2. append each to the
   * changelog hook, 3. write all of them and `meta` in one bytes-store batch,
   * 4. mark them clean, 5. call the flush listener per entry in write order.
   */
  async flush(meta?: ReadonlyMap<string, Buffer>): Promise<void> {
    if (this.cache === undefined || this.cache.dirtyCount === 0) {
      if (meta !== undefined && meta.size > 0) await this.bytes.write([], meta);
      return;
    }
    await this.#writeEntries([...this.cache.dirtyEntries()], meta);
  }

  /** Writes straight to the bytes store (batch records expanded): no cache, no changelog, no listener. */
  async restore(changelogRecords: readonly BytesWrite[], meta?: ReadonlyMap<string, Buffer>): Promise<void> {
    const records = expandChangelogBatches(changelogRecords);
    if (this.cache !== undefined && this.cache.size > 0) {
      for (const record of records) this.cache.delete(record.key.toString('latin1'));
    }
    await this.bytes.write(records, meta);
  }

  discardCache(): void {
    this.cache?.discardDirty();
  }

  /** Does not flush: a clean close calls `flush(meta)` first; dirty entries are dropped. */
  async close(): Promise<void> {
    this.cache?.clear();
    await this.bytes.close();
  }

  async destroy(): Promise<void> {
    this.cache?.clear();
    await this.bytes.destroy();
  }

  /** Point read through the cache; a miss is read from the bytes store and cached. */
  protected async readCached(cacheKey: string, key: string, windowStartMs: number | undefined): Promise<V | undefined> {
    const cache = this.cache as RecordCache<V>;
    const entry = cache.get(cacheKey);
    if (entry !== undefined) return entry.value;
    const value = await this.readBytes(Buffer.from(cacheKey, 'latin1'));
    cache.putClean(cacheKey, key, windowStartMs, value);
    if (cache.isOverCapacity) await this.#evict();
    return value;
  }

  protected async readBytes(keyBytes: Buffer): Promise<V | undefined> {
    const bytes = await this.bytes.get(keyBytes);
    return bytes === undefined ? undefined : this.valueSerde.deserialize(bytes);
  }

  /** A write into the cache (`undefined` deletes); evicts, writing through, past capacity. */
  protected async writeCached(
    cacheKey: string,
    key: string,
    windowStartMs: number | undefined,
    value: V | undefined,
    timestampMs: number,
  ): Promise<void> {
    const cache = this.cache as RecordCache<V>;
    cache.putDirty(cacheKey, key, windowStartMs, value, timestampMs);
    if (cache.isOverCapacity) await this.#evict();
  }

  /** A write with no cache: changelog, then a one-entry batch. */
  protected async writeThrough(keyBytes: Buffer, value: V | undefined, timestampMs: number): Promise<void> {
    const valueBytes = value === undefined ? null : this.valueSerde.serialize(value);
    this.#changelog?.append(keyBytes, valueBytes, timestampMs);
    await this.bytes.write([{ key: keyBytes, value: valueBytes }]);
  }

  /**
   * Merges the bytes-store iteration with the dirty cache entries that
   * `inRange` accepts. Both sides must be ordered by `compare`; on equal keys
   * the cache wins, and deleted cache entries hide the stored value. The cache
   * side is a snapshot taken when iteration starts.
   */
  protected async *scan<R>(
    stored: AsyncIterable<readonly [Buffer, Buffer]>,
    inRange: (entry: CacheEntry<V>) => boolean,
    compare: (left: Buffer, right: Buffer) => number,
    fromStored: (key: Buffer, value: Buffer) => R | undefined,
    fromCache: (entry: CacheEntry<V>, value: V) => R,
  ): AsyncGenerator<R> {
    const pending: { keyBytes: Buffer; entry: CacheEntry<V>; value: V | undefined }[] = [];
    if (this.cache !== undefined) {
      for (const entry of this.cache.dirtyEntries()) {
        if (inRange(entry)) pending.push({ keyBytes: Buffer.from(entry.cacheKey, 'latin1'), entry, value: entry.value });
      }
      pending.sort((left, right) => compare(left.keyBytes, right.keyBytes));
    }
    let next = 0;
    for await (const [key, value] of stored) {
      let order = 1;
      while (next < pending.length) {
        const candidate = pending[next] as (typeof pending)[number];
        order = compare(candidate.keyBytes, key);
        if (order > 0) break;
        next++;
        if (candidate.value !== undefined) yield fromCache(candidate.entry, candidate.value);
        if (order === 0) break;
      }
      if (order === 0) continue;
      const result = fromStored(key, value);
      if (result !== undefined) yield result;
    }
    for (; next < pending.length; next++) {
      const candidate = pending[next] as (typeof pending)[number];
      if (candidate.value !== undefined) yield fromCache(candidate.entry, candidate.value);
    }
  }

  async #evict(): Promise<void> {
    const cache = this.cache as RecordCache<V>;
    const victims = cache.victims(cache.maxEntries - Math.floor(cache.maxEntries * evictionFreeFraction));
    const dirty = victims.filter((entry) => entry.dirty);
    if (dirty.length > 0) await this.#writeEntries(dirty, undefined);
    cache.remove(victims);
  }

  async #writeEntries(entries: readonly CacheEntry<V>[], meta: ReadonlyMap<string, Buffer> | undefined): Promise<void> {
    const listener = this.#listener;
    if (listener !== undefined) await this.#loadOldValues(entries);
    // 1-2. Serialize and log, in write order.
    const writes: BytesWrite[] = new Array<BytesWrite>(entries.length);
    const perKeyLog = this.#batchWriter === undefined ? this.#changelog : undefined;
    for (let index = 0; index < entries.length; index++) {
      const entry = entries[index] as CacheEntry<V>;
      const key = Buffer.from(entry.cacheKey, 'latin1');
      const value = entry.value === undefined ? null : this.valueSerde.serialize(entry.value);
      perKeyLog?.append(key, value, entry.timestampMs);
      writes[index] = { key, value };
    }
    this.#batchWriter?.append(writes, this.currentTimestampMs());
    // 3. One batch, checkpoint included.
    await this.bytes.write(writes, meta);
    // 4. Capture the changes before marking clean overwrites the old values.
    const changes = listener === undefined ? undefined : entries.map(toFlushEntry);
    (this.cache as RecordCache<V>).markClean(entries);
    // 5. Forward, after the state is consistent, so the listener may write to this store again.
    if (changes !== undefined) for (const change of changes) await (listener as CacheFlushListener<V>)(change);
  }

  async #loadOldValues(entries: readonly CacheEntry<V>[]): Promise<void> {
    const unknown = entries.filter((entry) => !entry.oldValueKnown);
    const values = await Promise.all(unknown.map((entry) => this.readBytes(Buffer.from(entry.cacheKey, 'latin1'))));
    unknown.forEach((entry, index) => {
      entry.oldValue = values[index];
      entry.oldValueKnown = true;
    });
  }
}

function toFlushEntry<V>(entry: CacheEntry<V>): CacheFlushEntry<V> {
  return {
    key: entry.key,
    windowStartMs: entry.windowStartMs,
    newValue: entry.value,
    oldValue: entry.oldValue,
    timestampMs: entry.timestampMs,
  };
}
