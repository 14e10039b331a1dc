/**
 * The typed key-value store: string keys, object values, over a bytes store
 * (LevelDB or memory) with an optional write-back cache and changelog hook.
 */
import { decodeKey, encodeKey, keyCacheKey, prefixRange } from './key-codec.js';
import type { CacheEntry } from './record-cache.js';
import { StoreCore } from './store-core.js';
import type { KeyValue, KeyValueStore } from './types.js';

/**
 * Values are held by reference in the cache: do not mutate a value after
 * `put` (put a new object instead). `put(key, undefined)` deletes.
 */
export class LayeredKeyValueStore<V> extends StoreCore<V> implements KeyValueStore<V> {
  readonly kind = 'keyValue' as const;

  get(key: string): V | undefined {
    return this.readCached(keyCacheKey(key), key, undefined);
  }

  put(key: string, value: V, timestampMs: number = this.currentTimestampMs()): void {
    this.writeCached(keyCacheKey(key), key, undefined, value, timestampMs);
  }

  delete(key: string, timestampMs: number = this.currentTimestampMs()): void {
    this.writeCached(keyCacheKey(key), key, undefined, undefined, timestampMs);
  }

  /** Keys in [from, to) by UTF-8 byte order, including un-flushed writes. */
  range(from?: string, to?: string): AsyncIterable<KeyValue<V>> {
    return this.#scanBytes(from === undefined ? undefined : encodeKey(from), to === undefined ? undefined : encodeKey(to));
  }

  /** Keys that start with `prefix`, in UTF-8 byte order, including un-flushed writes. */
  prefixScan(prefix: string): AsyncIterable<KeyValue<V>> {
    const { gte, lt } = prefixRange(prefix);
    return this.#scanBytes(gte, lt);
  }

  all(): AsyncIterable<KeyValue<V>> {
    return this.#scanBytes(undefined, undefined);
  }

  protected decodeCacheKey(cacheKey: string): { readonly key: string; readonly windowStartMs: undefined } {
    return { key: decodeKey(Buffer.from(cacheKey, 'latin1')), windowStartMs: undefined };
  }

  #scanBytes(gte: Buffer | undefined, lt: Buffer | undefined): AsyncIterable<KeyValue<V>> {
    // Cache keys are latin1 forms of the same bytes, so string comparison bounds them identically.
    const low = gte?.toString('latin1');
    const high = lt?.toString('latin1');
    return this.scan(
      this.bytes.entries({ gte, lt }),
      (entry: CacheEntry<V>) => (low === undefined || entry.cacheKey >= low) && (high === undefined || entry.cacheKey < high),
      Buffer.compare,
      (key, value) => ({ key: decodeKey(key), value: this.valueSerde.deserialize(value) }),
      (entry, value) => ({ key: entry.key, value }),
    );
  }
}
