/**
 * The write-back record cache in front of a typed store. Values stay objects
 * until flush, so the hot path (get/put) does no serialization. It coalesces
 * every write to a key between two flushes into one changelog record and one
 * flush-listener call, like Kafka Streams' ThreadCache.
 */

import { CacheBudget } from './cache-budget.js';

/** One cached key. Keys are the encoded key bytes as a latin1 string (see key-codec). */
export interface CacheEntry<V> {
  readonly cacheKey: string;
  readonly key: string;
  /** Window start for window stores; undefined for key-value stores. */
  readonly windowStartMs: number | undefined;
  /** Current value; undefined when absent or deleted. */
  value: V | undefined;
  /** The value the bytes store holds (as of the last flush); valid when `oldValueKnown`. */
  oldValue: V | undefined;
  /** False for a key first written without being read: its old value is looked up at flush. */
  oldValueKnown: boolean;
  dirty: boolean;
  /** Timestamp of the last write. */
  timestampMs: number;
  /** Read or written since eviction last passed it: it gets a second chance (see RecordCache). */
  referenced: boolean;
  /** What the entry counts against the budget, bytes (fixed when it is cached). */
  sizeBytes: number;
}

/** Bytes an entry costs beyond its key and value: the entry object and its map and set slots. */
const entryOverheadBytes = 160;

/** Default cache capacity in entries: none; the byte budget bounds the cache. */
export const defaultCacheMaxEntries = Number.POSITIVE_INFINITY;

/**
 * A bounded map of entries plus the set of dirty keys in order of their last
 * write. Eviction is approximately least-recently-used ("second chance"): a
 * hit only marks the entry, and eviction, walking from the oldest insertion,
 * moves marked entries to the back instead of evicting them. A true LRU
 * re-inserts the entry on every hit, which was the single most expensive
 * line of the cache. The cache holds value references: callers must not
 * mutate a value after putting it (or after getting it, unless they put it back).
 */
export class RecordCache<V> {
  readonly maxEntries: number;
  readonly budget: CacheBudget;
  /** The store's running estimate of a serialized value's size, bytes (see `noteValueBytes`). */
  #valueBytesEstimate = 64;
  #bytes = 0;
  /** Iteration order is insertion, refreshed for marked entries when eviction passes them. */
  readonly #entries = new Map<string, CacheEntry<V>>();
  /** Iteration order is the order of last write, which is the flush order. Entries, not keys: no string hashing. */
  readonly #dirty = new Set<CacheEntry<V>>();

  /** `budget`: shared with the instance's other caches; default a private unlimited one. */
  constructor(maxEntries: number = defaultCacheMaxEntries, budget: CacheBudget = new CacheBudget(Number.MAX_SAFE_INTEGER)) {
    if (maxEntries !== Number.POSITIVE_INFINITY && (!Number.isSafeInteger(maxEntries) || maxEntries < 1)) {
      throw new RangeError(`cacheMaxEntries must be an integer >= 1, got ${String(maxEntries)}`);
    }
    this.maxEntries = maxEntries;
    this.budget = budget;
  }

  /** Bytes this cache holds, estimated. */
  get sizeBytes(): number {
    return this.#bytes;
  }

  /** Folds the size of a value just serialized into the estimate new entries are charged with. */
  noteValueBytes(bytes: number): void {
    this.#valueBytesEstimate += (bytes - this.#valueBytesEstimate) / 16;
  }

  get size(): number {
    return this.#entries.size;
  }

  get dirtyCount(): number {
    return this.#dirty.size;
  }

  /** Past its own entry cap, or the shared byte budget is exhausted. */
  get isOverCapacity(): boolean {
    return this.#entries.size > this.maxEntries || this.budget.isExhausted;
  }

  /** Entries that hold no unflushed write. */
  get cleanCount(): number {
    return this.#entries.size - this.#dirty.size;
  }

  /** The entry for `cacheKey`, marked as recently used. */
  get(cacheKey: string): CacheEntry<V> | undefined {
    const entry = this.#entries.get(cacheKey);
    if (entry !== undefined) entry.referenced = true;
    return entry;
  }

  /** The entry for `cacheKey`, not marked as used. */
  peek(cacheKey: string): CacheEntry<V> | undefined {
    return this.#entries.get(cacheKey);
  }

  /** Caches a value read from the bytes store, unless a write got there first. */
  putClean(cacheKey: string, key: string, windowStartMs: number | undefined, value: V | undefined): void {
    if (this.#entries.has(cacheKey)) return;
    this.#entries.set(cacheKey, { cacheKey, key, windowStartMs, value, oldValue: value, oldValueKnown: true, dirty: false, timestampMs: 0, referenced: false, sizeBytes: this.#charge(cacheKey) });
  }

  /** Records a write (`undefined` deletes); the bytes store sees it at the next flush. */
  putDirty(cacheKey: string, key: string, windowStartMs: number | undefined, value: V | undefined, timestampMs: number): void {
    let entry = this.#entries.get(cacheKey);
    if (entry === undefined) {
      entry = { cacheKey, key, windowStartMs, value, oldValue: undefined, oldValueKnown: false, dirty: true, timestampMs, referenced: false, sizeBytes: this.#charge(cacheKey) };
      this.#entries.set(cacheKey, entry);
    } else {
      entry.value = value;
      entry.dirty = true;
      entry.timestampMs = timestampMs;
      entry.referenced = true;
      this.#dirty.delete(entry);
    }
    this.#dirty.add(entry);
  }

  /** Dirty entries in the order of their last write. */
  dirtyEntries(): IterableIterator<CacheEntry<V>> {
    return this.#dirty.values();
  }

  /** Every dirty entry, in the order of their last write, now clean: the caller writes them to the bytes store. */
  takeDirty(): CacheEntry<V>[] {
    const entries = Array.from(this.#dirty);
    this.#dirty.clear();
    for (let index = 0; index < entries.length; index++) {
      const entry = entries[index] as CacheEntry<V>;
      entry.dirty = false;
    }
    return entries;
  }

  /** Records that the bytes store now holds each entry's current value (its old value from here on). */
  markWritten(entries: readonly CacheEntry<V>[]): void {
    for (let index = 0; index < entries.length; index++) {
      const entry = entries[index] as CacheEntry<V>;
      entry.oldValue = entry.value;
      entry.oldValueKnown = true;
    }
  }

  /**
   * The clean entries that must leave for the cache to shrink to
   * `targetSize` entries and give back at least `bytesToFree`: the oldest unmarked ones (marked ones lose their mark and
   * move to the back, to be passed again after every other entry). Dirty
   * entries are skipped: they leave only once a flush has written them.
   */
  victims(targetSize: number, bytesToFree = 0): CacheEntry<V>[] {
    const victims: CacheEntry<V>[] = [];
    let excess = this.#entries.size - targetSize;
    let bytes = bytesToFree;
    // A Map iterator visits entries re-inserted during the walk again, at the end: each at most twice.
    for (const entry of this.#entries.values()) {
      if (excess <= 0 && bytes <= 0) break;
      if (entry.dirty) continue;
      if (entry.referenced) {
        entry.referenced = false;
        this.#entries.delete(entry.cacheKey);
        this.#entries.set(entry.cacheKey, entry);
        continue;
      }
      victims.push(entry);
      excess--;
      bytes -= entry.sizeBytes;
    }
    return victims;
  }

  remove(entries: readonly CacheEntry<V>[]): void {
    for (const entry of entries) {
      if (this.#entries.get(entry.cacheKey) === entry && !entry.dirty) this.#forget(entry);
    }
  }

  /** Forgets one key (restoration rewrote it underneath the cache). */
  delete(cacheKey: string): void {
    const entry = this.#entries.get(cacheKey);
    if (entry === undefined) return;
    this.#forget(entry);
    this.#dirty.delete(entry);
  }

  /** Drops every dirty entry without writing it; clean entries still match the bytes store. */
  discardDirty(): void {
    for (const entry of this.#dirty) {
      if (this.#entries.get(entry.cacheKey) === entry) this.#forget(entry);
    }
    this.#dirty.clear();
  }

  clear(): void {
    this.budget.add(-this.#bytes);
    this.#bytes = 0;
    this.#entries.clear();
    this.#dirty.clear();
  }

  #charge(cacheKey: string): number {
    const size = cacheKey.length + this.#valueBytesEstimate + entryOverheadBytes;
    this.#bytes += size;
    this.budget.add(size);
    return size;
  }

  #forget(entry: CacheEntry<V>): void {
    this.#entries.delete(entry.cacheKey);
    this.#bytes -= entry.sizeBytes;
    this.budget.add(-entry.sizeBytes);
  }
}
