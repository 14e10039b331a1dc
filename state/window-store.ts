/**
 * The typed window store: (key, windowStartMs) → object value over a
 * segmented bytes store, with an optional write-back cache and changelog hook.
 */
import { TallyError } from '../schemas/index.js';
import { decodeWindowKey, windowCacheKey, windowKeyRange, windowStartOf } from './key-codec.js';
import type { CacheEntry } from './record-cache.js';
import type { SegmentedBytesStore } from './segmented-bytes-store.js';
import { StoreCore, type StoreCoreOptions } from './store-core.js';
import type { WindowEntry, WindowStore } from './types.js';

export interface LayeredWindowStoreOptions<V> extends StoreCoreOptions<V> {
  readonly bytes: SegmentedBytesStore;
  /** Window size, when known; informational (retention is by window start). */
  readonly windowSizeMs: number | undefined;
}

const emptyResult: AsyncIterable<never> = { [Symbol.asyncIterator]: async function* () {} };

/**
 * Retention is by window start behind the store's observed time (the largest
 * window start ever put or restored): expired windows are neither stored nor
 * returned. Values are held by reference in the cache: do not mutate a value
 * after `put`.
 */
export class LayeredWindowStore<V> extends StoreCore<V> implements WindowStore<V> {
  readonly kind = 'window' as const;
  readonly retentionMs: number;
  readonly windowSizeMs: number | undefined;
  readonly #segments: SegmentedBytesStore;
  /** The last key encoded: a read-modify-write (`fetch`, then `put` of the same window) encodes once. */
  #lastKey: string | undefined;
  #lastStartMs = -1;
  #lastCacheKey = '';

  constructor(options: LayeredWindowStoreOptions<V>) {
    super(options);
    this.#segments = options.bytes;
    this.retentionMs = options.bytes.retentionMs;
    this.windowSizeMs = options.windowSizeMs;
  }

  /** Largest window start put or restored so far; -1 before any. */
  get observedTimeMs(): number {
    return this.#segments.observedTimeMs;
  }

  fetch(key: string, windowStartMs: number): V | undefined {
    return this.#fetch(key, windowStartMs, false);
  }

  fetchFinal(key: string, windowStartMs: number): V | undefined {
    return this.#fetch(key, windowStartMs, true);
  }

  /** `lastTime`: the read caches nothing and drops a clean entry (see `fetchFinal`). */
  #fetch(key: string, windowStartMs: number, lastTime: boolean): V | undefined {
    const cacheKey = this.#cacheKeyOf(key, windowStartMs);
    if (this.#segments.isExpired(windowStartMs)) return undefined;
    // Nothing was ever written to that segment, or its key filter says the key was not: only memory (the
    // cache, or the write buffer of a store without one) can hold the window, and a miss is not cached
    // (dedupe probes every live bucket for every event; nearly all miss).
    if (!this.#segments.mayHold(cacheKey, windowStartMs)) return this.readUnwritten(cacheKey);
    return lastTime ? this.readLastTime(cacheKey) : this.readCached(cacheKey, key, windowStartMs);
  }

  /** Returns false (and stores nothing) when the window is already past retention. */
  put(key: string, windowStartMs: number, value: V | undefined, timestampMs: number = this.currentTimestampMs()): boolean {
    // Encoding first validates windowStartMs before it can move observed time.
    const cacheKey = this.#cacheKeyOf(key, windowStartMs);
    if (!this.#segments.observe(windowStartMs)) return false;
    this.writeCached(cacheKey, key, windowStartMs, value, timestampMs);
    return true;
  }

  /** One key's windows with start in [fromStartMs, toStartMs] (inclusive), ascending by start. */
  fetchRange(key: string, fromStartMs: number, toStartMs: number): AsyncIterable<WindowEntry<V>> {
    const bounds = this.#liveBounds(fromStartMs, toStartMs);
    if (bounds === undefined) return emptyResult;
    const [fromMs, toMs] = bounds;
    const { gte, lt } = windowKeyRange(key, fromMs, toMs);
    const low = gte.toString('latin1');
    const high = lt.toString('latin1');
    // Within one key, byte order is time order, across segments too.
    return this.scan(
      this.#segments.fetchEntries(fromMs, toMs, { gte, lt }),
      (entry: CacheEntry<V>) => entry.cacheKey >= low && entry.cacheKey < high,
      Buffer.compare,
      (keyBytes, value) => ({ key, windowStartMs: windowStartOf(keyBytes), value: this.valueSerde.deserialize(value) }),
      fromCacheEntry,
    );
  }

  /**
   * Every key's windows with start in [fromStartMs, toStartMs] (inclusive),
   * ordered by segment (a span of `segmentIntervalMs`), then key, then start.
   */
  fetchAll(fromStartMs: number, toStartMs: number): AsyncIterable<WindowEntry<V>> {
    const bounds = this.#liveBounds(fromStartMs, toStartMs);
    if (bounds === undefined) return emptyResult;
    const [fromMs, toMs] = bounds;
    const segments = this.#segments;
    const segmentOf = (keyBytes: Buffer): number => segments.segmentStartOf(windowStartOf(keyBytes));
    return this.scan(
      segments.fetchEntries(fromMs, toMs),
      (entry: CacheEntry<V>) => (entry.windowStartMs as number) >= fromMs && (entry.windowStartMs as number) <= toMs,
      (left, right) => segmentOf(left) - segmentOf(right) || Buffer.compare(left, right),
      (keyBytes, value) => ({ ...decodeWindowKey(keyBytes), value: this.valueSerde.deserialize(value) }),
      fromCacheEntry,
    );
  }

  all(): AsyncIterable<WindowEntry<V>> {
    return this.fetchAll(0, Number.MAX_SAFE_INTEGER);
  }

  protected decodeCacheKey(cacheKey: string): { readonly key: string; readonly windowStartMs: number } {
    return decodeWindowKey(Buffer.from(cacheKey, 'latin1'));
  }

  #cacheKeyOf(key: string, windowStartMs: number): string {
    if (key === this.#lastKey && windowStartMs === this.#lastStartMs) return this.#lastCacheKey;
    const cacheKey = windowCacheKey(key, windowStartMs);
    this.#lastKey = key;
    this.#lastStartMs = windowStartMs;
    this.#lastCacheKey = cacheKey;
    return cacheKey;
  }

  /** Clamps [from, to] to valid, unexpired window starts; undefined when empty. */
  #liveBounds(fromStartMs: number, toStartMs: number): [number, number] | undefined {
    if (Number.isNaN(fromStartMs) || Number.isNaN(toStartMs)) {
      throw new TallyError('state-window-start-invalid', `window range [${fromStartMs}, ${toStartMs}] is not a pair of numbers (ms)`);
    }
    const oldestLiveMs = this.#segments.observedTimeMs - this.retentionMs + 1;
    const fromMs = Math.max(0, oldestLiveMs, Math.ceil(fromStartMs));
    const toMs = Math.min(Number.MAX_SAFE_INTEGER, Math.floor(toStartMs));
    return fromMs <= toMs ? [fromMs, toMs] : undefined;
  }
}

function fromCacheEntry<V>(entry: CacheEntry<V>, value: V): WindowEntry<V> {
  return { key: entry.key, windowStartMs: entry.windowStartMs as number, value };
}
