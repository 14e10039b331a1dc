/**
 * What key-value and window stores share: the layering cache → changelog hook
 * → bytes store, the commit-time flush, write-through, restoration, and scans
 * that merge un-flushed cache entries into bytes-store iteration.
 */
import { StateStoreError, type Serde } from '../schemas/index.js';
import { ChangelogBatchWriter, expandChangelogBatches } from './changelog-batch.js';
import type { CacheBudget } from './cache-budget.js';
import { RecordCache, type CacheEntry } from './record-cache.js';
import { notBuffered, WriteBuffer, type TakenWrites } from './write-buffer.js';
import type {
  BytesStore,
  BytesWrite,
  CacheFlushEntry,
  CacheFlushListener,
  ChangelogWriter,
  FlushListenerOptions,
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
  /** Cache capacity in entries; undefined: no cache (writes are still buffered until the flush, see StoreCore). */
  readonly cacheMaxEntries: number | undefined;
  /** The instance's shared byte budget for caches; default: unlimited. */
  readonly cacheBudget?: CacheBudget;
  /** Timestamp for writes that do not give one. */
  readonly currentTimestampMs: () => number;
  /** Log each flush as batch records (write-once keys; see changelog-batch) instead of one record per key. */
  readonly logBatches?: boolean;
}

/** Eviction frees this share of the capacity at once. */
const evictionFreeFraction = 0.1;
/** Below this share of clean entries, eviction is not worth a walk of the cache: a flush is. */
const minCleanShareToEvict = 0.1;

/**
 * The per-record calls (`get`, `fetch`, `put`, `delete`) are synchronous: a
 * read goes through the cache, then LevelDB's synchronous get; a write lands
 * in the cache. Bytes reach the bytes store only at `flush`, asynchronously
 * and in one batch. Without caching, every write is still buffered until the
 * flush, but is logged to the changelog at once (each write its own change)
 * and no flush listener is called. A store is driven by one task, one call at
 * a time; `flush` must not overlap other calls.
 */
export abstract class StoreCore<V> implements StateStore {
  abstract readonly kind: StoreKind;
  readonly name: string;
  readonly persistent: boolean;
  /** True when writes are coalesced per flush and a flush listener may be set. */
  readonly caching: boolean;
  protected readonly bytes: BytesStore;
  protected readonly valueSerde: Serde<V>;
  /** The record cache of a store with caching (empty and unused without). */
  protected readonly cache: RecordCache<V>;
  /** Writes of a store without caching until the bytes store holds them (undefined with caching). */
  readonly #buffer: WriteBuffer<V> | undefined;
  protected readonly currentTimestampMs: () => number;
  readonly #changelog: ChangelogWriter | undefined;
  readonly #batchWriter: ChangelogBatchWriter | undefined;
  #listener: CacheFlushListener<V> | undefined;
  /** False when the listener ignores `oldValue`: a key first written without a read then costs no read at the flush. */
  #sendOldValues = true;
  /** Entries of the flushes whose batch is still being written: clean already, not in the bytes store yet. */
  readonly #entriesInFlight = new Set<readonly CacheEntry<V>[]>();

  constructor(options: StoreCoreOptions<V>) {
    this.name = options.name;
    this.persistent = options.persistent;
    this.bytes = options.bytes;
    this.valueSerde = options.valueSerde;
    this.caching = options.cacheMaxEntries !== undefined;
    this.cache = this.caching ? new RecordCache<V>(options.cacheMaxEntries, options.cacheBudget) : new RecordCache<V>();
    // A store without caching buffers writes until the flush only, with no entry objects (see write-buffer.ts).
    this.#buffer = this.caching ? undefined : new WriteBuffer<V>();
    this.currentTimestampMs = options.currentTimestampMs;
    this.#changelog = options.changelog;
    this.#batchWriter = options.logBatches === true && options.changelog !== undefined ? new ChangelogBatchWriter(options.changelog) : undefined;
  }

  /**
   * Called once per coalesced change when the cache flushes or evicts; never
   * called when the store has no cache (every put is then its own change).
   */
  setFlushListener(listener: CacheFlushListener<V> | undefined, options: FlushListenerOptions = {}): void {
    if (!this.caching && listener !== undefined) {
      throw new StateStoreError('store-not-cached', `store ${this.name} has no cache, so it has no coalesced changes to report; build it with caching`);
    }
    this.#listener = listener;
    this.#sendOldValues = options.sendOldValues ?? true;
  }

  /** True when the cache is over capacity and mostly dirty, so only a flush can shrink it: commit soon. */
  get needsFlush(): boolean {
    if (this.#buffer !== undefined) return false;
    const cache = this.cache;
    return cache.isOverCapacity && cache.cleanCount < cache.size * minCleanShareToEvict;
  }

  open(): Promise<void> {
    return this.bytes.open();
  }

  readMeta(name: string): Promise<Buffer | undefined> {
    return this.bytes.readMeta(name);
  }

  /**
   * Commit step: 1. serialize every dirty entry, 2. append each to the
   * changelog hook, 3. start writing all of them and `meta` in one
   * bytes-store batch, 4. mark them clean, 5. call the flush listener per
   * entry in write order. Steps 1–5 run when `flush` is called; the returned
   * promise settles when the batch is written. So a task can flush its stores
   * in order (a listener's output reaches downstream stores before they
   * flush) and wait for all their batches at once, or go on processing
   * while they are written: until the batch is written, nothing is evicted,
   * so reads, writes and scans find in the cache what LevelDB does not hold
   * yet. Another `flush` of this store, `restore`, `close` and `destroy` must
   * wait until it settles.
   */
  flush(meta?: ReadonlyMap<string, Buffer>): Promise<void> {
    if (this.#buffer !== undefined) return this.#writeBuffered(this.#buffer, meta);
    if (this.cache.dirtyCount === 0) return meta !== undefined && meta.size > 0 ? this.bytes.write([], meta) : Promise.resolve();
    return this.#writeEntries(this.cache.takeDirty(), meta);
  }

  /** Writes straight to the bytes store (batch records expanded): no cache, no changelog, no listener. */
  async restore(changelogRecords: readonly BytesWrite[], meta?: ReadonlyMap<string, Buffer>): Promise<void> {
    const records = expandChangelogBatches(changelogRecords);
    if (this.cache.size > 0) {
      for (const record of records) this.cache.delete(record.key.toString('latin1'));
    }
    if (this.#buffer !== undefined && this.#buffer.pendingCount > 0) {
      for (const record of records) this.#buffer.delete(record.key.toString('latin1'));
    }
    await this.bytes.write(records, meta);
  }

  discardCache(): void {
    this.cache.discardDirty();
    this.#buffer?.discardPending();
  }

  /** Does not flush: a clean close calls `flush(meta)` first; dirty entries are dropped. */
  async close(): Promise<void> {
    this.cache.clear();
    this.#buffer?.clear();
    await this.bytes.close();
  }

  async destroy(): Promise<void> {
    this.cache.clear();
    this.#buffer?.clear();
    await this.bytes.destroy();
  }

  /** Point read through the cache; a miss is read from the bytes store (synchronously) and cached. */
  protected readCached(cacheKey: string, key: string, windowStartMs: number | undefined): V | undefined {
    if (this.#buffer !== undefined) return this.#readBuffered(this.#buffer, cacheKey);
    const entry = this.cache.get(cacheKey);
    if (entry !== undefined) return entry.value;
    const value = this.readBytes(Buffer.from(cacheKey, 'latin1'));
    if (this.caching) {
      this.cache.putClean(cacheKey, key, windowStartMs, value);
      if (this.cache.isOverCapacity) this.#evict();
    }
    return value;
  }

  /** Point read through the cache that caches nothing and drops a clean entry: a last read (see `fetchFinal`). */
  protected readLastTime(cacheKey: string): V | undefined {
    if (this.#buffer !== undefined) return this.#readBuffered(this.#buffer, cacheKey);
    const entry = this.cache.peek(cacheKey);
    if (entry === undefined) return this.readBytes(Buffer.from(cacheKey, 'latin1'));
    const value = entry.value;
    // An entry of a batch still being written is clean but not in the bytes store yet: it stays.
    if (!entry.dirty && this.#entriesInFlight.size === 0) this.cache.remove([entry]);
    return value;
  }

  protected readBytes(keyBytes: Buffer): V | undefined {
    const bytes = this.bytes.get(keyBytes);
    return bytes === undefined ? undefined : this.valueSerde.deserialize(bytes);
  }

  /**
   * A write into the cache (`undefined` deletes). Without caching, it is
   * logged now, as its own change. Past capacity, clean entries are evicted;
   * dirty ones stay until the flush (`needsFlush` asks for it).
   */
  protected writeCached(cacheKey: string, key: string, windowStartMs: number | undefined, value: V | undefined, timestampMs: number): void {
    if (this.#buffer !== undefined) {
      // Each write its own change, logged now; a batched changelog gets the flush's writes instead.
      if (this.#batchWriter === undefined) this.#changelog?.append(Buffer.from(cacheKey, 'latin1'), value === undefined ? null : this.valueSerde.serialize(value), timestampMs);
      this.#buffer.put(cacheKey, value);
      return;
    }
    this.cache.putDirty(cacheKey, key, windowStartMs, value, timestampMs);
    if (this.cache.isOverCapacity) this.#evict();
  }

  /** A read of a store without caching: its buffered write, else the bytes store. */
  #readBuffered(buffer: WriteBuffer<V>, cacheKey: string): V | undefined {
    const buffered = buffer.lookup(cacheKey);
    return buffered === notBuffered ? this.readBytes(Buffer.from(cacheKey, 'latin1')) : buffered;
  }

  /** What the store holds for `cacheKey` in memory only, not yet in the bytes store (a read that knows the bytes store has nothing). */
  protected readUnwritten(cacheKey: string): V | undefined {
    if (this.#buffer === undefined) return this.cache.get(cacheKey)?.value;
    const buffered = this.#buffer.lookup(cacheKey);
    return buffered === notBuffered ? undefined : buffered;
  }

  /** The key and window start (window stores) that a cache key encodes: for scans of a store without caching. */
  protected abstract decodeCacheKey(cacheKey: string): { readonly key: string; readonly windowStartMs: number | undefined };

  /**
   * Merges the bytes-store iteration with the cache entries that `inRange`
   * accepts and the bytes store does not hold yet: the dirty ones, and those
   * of a flush whose batch is still being written. Both sides must be
   * ordered by `compare`; on equal keys the cache wins, and deleted cache
   * entries hide the stored value.
   *
   * A scan is a snapshot of the store at the moment iteration starts (the
   * first `next()`): the cache side is copied then, and `stored` must open
   * its bytes-store iterators in that same synchronous step (LevelDB
   * iterators read from an implicit snapshot taken when they are created).
   * Writes and flushes made while the scan runs are not seen, so a scan may
   * run while the task keeps processing and committing.
   */
  protected async *scan<R>(
    stored: AsyncIterable<readonly [Buffer, Buffer]>,
    inRange: (entry: CacheEntry<V>) => boolean,
    compare: (left: Buffer, right: Buffer) => number,
    fromStored: (key: Buffer, value: Buffer) => R | undefined,
    fromCache: (entry: CacheEntry<V>, value: V) => R,
  ): AsyncGenerator<R> {
    const pending: { keyBytes: Buffer; entry: CacheEntry<V>; value: V | undefined }[] = [];
    for (const entry of this.#unwrittenEntries()) {
      if (inRange(entry)) pending.push({ keyBytes: Buffer.from(entry.cacheKey, 'latin1'), entry, value: entry.value });
    }
    pending.sort((left, right) => compare(left.keyBytes, right.keyBytes));
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

  /** Cache entries whose current value the bytes store does not hold yet, each once. */
  #unwrittenEntries(): Iterable<CacheEntry<V>> {
    if (this.#buffer !== undefined) return this.#bufferedEntries(this.#buffer);
    if (this.#entriesInFlight.size === 0) return this.cache.dirtyEntries();
    const entries = new Set<CacheEntry<V>>(this.cache.dirtyEntries());
    for (const batch of this.#entriesInFlight) for (const entry of batch) entries.add(entry);
    return entries;
  }

  /**
   * Drops the least recently used clean entries: enough to get a tenth below
   * the entry cap and below the byte budget. Dirty entries cannot leave
   * before a flush writes them; when they are most of the cache, eviction is
   * not tried (each try walks the cache) and `needsFlush` asks for a commit.
   */
  #evict(): void {
    const cache = this.cache;
    // Entries of a batch still being written are clean but not in LevelDB yet: they must stay.
    if (this.#entriesInFlight.size > 0) return;
    if (cache.cleanCount < cache.size * minCleanShareToEvict) return;
    const overEntries = cache.size > cache.maxEntries;
    const targetSize = overEntries ? cache.maxEntries - Math.max(1, Math.floor(cache.maxEntries * evictionFreeFraction)) : cache.size;
    const budget = cache.budget;
    const bytesToFree = budget.isExhausted ? budget.usedBytes - budget.maxBytes + Math.floor(budget.maxBytes * evictionFreeFraction) : 0;
    cache.remove(cache.victims(targetSize, bytesToFree));
  }

  #writeEntries(entries: readonly CacheEntry<V>[], meta: ReadonlyMap<string, Buffer> | undefined): Promise<void> {
    const listener = this.#listener;
    if (listener !== undefined && this.#sendOldValues) this.#loadOldValues(entries);
    // 1-2. Serialize and log, in write order.
    const writes: BytesWrite[] = new Array<BytesWrite>(entries.length);
    const perKeyLog = this.#batchWriter === undefined ? this.#changelog : undefined;
    for (let index = 0; index < entries.length; index++) {
      const entry = entries[index] as CacheEntry<V>;
      const key = Buffer.from(entry.cacheKey, 'latin1');
      const value = entry.value === undefined ? null : this.valueSerde.serialize(entry.value);
      if (value !== null) this.cache.noteValueBytes(value.length);
      perKeyLog?.append(key, value, entry.timestampMs);
      writes[index] = { key, value };
    }
    this.#batchWriter?.append(writes, this.currentTimestampMs());
    // 3. One batch, checkpoint included; the cache keeps every entry until it is written.
    this.#entriesInFlight.add(entries);
    const written = this.bytes.write(writes, meta).finally(() => this.#entriesInFlight.delete(entries));
    // 4. Capture the changes before the entries' old values become their current ones.
    const changes = listener === undefined ? undefined : entries.map(toFlushEntry);
    this.cache.markWritten(entries);
    // 5. Forward; reads see the new values (from the cache), so the listener may write to this store again.
    if (changes !== undefined) for (const change of changes) (listener as CacheFlushListener<V>)(change);
    return written;
  }

  /** Commit step of a store without caching: its buffered writes to the changelog (batched) and the bytes store, with `meta`, in one batch. */
  #writeBuffered(buffer: WriteBuffer<V>, meta: ReadonlyMap<string, Buffer> | undefined): Promise<void> {
    if (buffer.pendingCount === 0) return meta !== undefined && meta.size > 0 ? this.bytes.write([], meta) : Promise.resolve();
    const taken: TakenWrites<V> = buffer.take();
    const writes: BytesWrite[] = new Array<BytesWrite>(taken.size);
    let index = 0;
    for (const [cacheKey, value] of WriteBuffer.entriesOf(taken)) {
      writes[index++] = { key: Buffer.from(cacheKey, 'latin1'), value: value === undefined ? null : this.valueSerde.serialize(value) };
    }
    // Without batching, each write was logged when it was made.
    this.#batchWriter?.append(writes, this.currentTimestampMs());
    return this.bytes.write(writes, meta).finally(() => buffer.written(taken));
  }

  /** A buffered write as the cache entry a scan merges (read-only: scans do not change entries). */
  *#bufferedEntries(buffer: WriteBuffer<V>): IterableIterator<CacheEntry<V>> {
    for (const [cacheKey, value] of buffer.unwritten()) {
      const { key, windowStartMs } = this.decodeCacheKey(cacheKey);
      yield { cacheKey, key, windowStartMs, value, oldValue: undefined, oldValueKnown: false, dirty: true, timestampMs: 0, referenced: false, sizeBytes: 0 };
    }
  }

  #loadOldValues(entries: readonly CacheEntry<V>[]): void {
    for (const entry of entries) {
      if (entry.oldValueKnown) continue;
      entry.oldValue = this.readBytes(Buffer.from(entry.cacheKey, 'latin1'));
      entry.oldValueKnown = true;
    }
  }
}

function toFlushEntry<V>(entry: CacheEntry<V>): CacheFlushEntry<V> {
  return {
    key: entry.key,
    windowStartMs: entry.windowStartMs,
    newValue: entry.value,
    oldValue: entry.oldValueKnown ? entry.oldValue : undefined,
    timestampMs: entry.timestampMs,
  };
}
