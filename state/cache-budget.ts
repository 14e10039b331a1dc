/**
 * The memory the record caches of one application instance may hold, in
 * bytes, shared by every cached store of every task (as Kafka Streams'
 * `statestore.cache.max.bytes`). Sizes are estimates: an entry counts its key
 * (the encoded key as a string), its value as last serialized by its store
 * (a running average per store), and a fixed overhead for the entry object
 * and map slots. A store that writes while the budget is exhausted evicts its
 * own least recently used clean entries; dirty entries leave only when a
 * flush has written them, so when they alone exceed the budget the owner is
 * asked to commit early.
 *
 * The default, 16 MiB, is what the metering benchmark needs: 64 MiB bought no
 * throughput there and cost about 200 MB of resident memory (the entries
 * themselves, about 1.4 times their estimate, and the V8 heap's headroom above
 * them; docs/performance.md, "Where the memory goes").
 */
export const defaultCacheMaxBytes = 16 * 1024 * 1024;

export class CacheBudget {
  readonly maxBytes: number;
  #usedBytes = 0;

  constructor(maxBytes: number = defaultCacheMaxBytes) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`cacheMaxBytes must be a whole number of bytes >= 0, got ${String(maxBytes)}`);
    this.maxBytes = maxBytes;
  }

  get usedBytes(): number {
    return this.#usedBytes;
  }

  get isExhausted(): boolean {
    return this.#usedBytes > this.maxBytes;
  }

  /** Adds (or, negative, releases) bytes held by a cache. */
  add(bytes: number): void {
    this.#usedBytes += bytes;
  }
}
