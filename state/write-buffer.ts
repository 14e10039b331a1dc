/**
 * The writes of a store without a cache, from the put until the bytes store
 * holds them: cache key (see key-codec) → value. Such a store serves no read
 * from memory but these, so it needs none of a record cache's entry objects,
 * recency marks or budget: a write costs one map slot (dedupe writes one per
 * event, each kept until the next commit).
 *
 * Lifecycle of a write: pending (`put`) → taken by a flush (`take`), still
 * readable while its batch is written → gone (`written`). A later write of the
 * same key wins over an earlier one, pending or taken.
 */

/** What a buffered delete holds, so that a miss (`undefined` from a map) and a delete differ. */
const deleted: unique symbol = Symbol('deleted');

/** A flush's writes, in the order of their first write. */
export type TakenWrites<V> = ReadonlyMap<string, V | typeof deleted>;

/** `lookup`'s answer for a key the buffer does not hold: the bytes store has the last word. */
export const notBuffered: unique symbol = Symbol('not buffered');

export class WriteBuffer<V> {
  #pending = new Map<string, V | typeof deleted>();
  /** Taken by flushes whose batch is not written yet, oldest first. */
  #taken: TakenWrites<V>[] = [];

  /** Writes not taken by a flush yet. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** `undefined` deletes. */
  put(cacheKey: string, value: V | undefined): void {
    this.#pending.set(cacheKey, value === undefined ? deleted : value);
  }

  /** The value last written for `cacheKey` (undefined: deleted), or `notBuffered`. */
  lookup(cacheKey: string): V | undefined | typeof notBuffered {
    let value = this.#pending.get(cacheKey);
    for (let index = this.#taken.length - 1; value === undefined && index >= 0; index--) value = (this.#taken[index] as TakenWrites<V>).get(cacheKey);
    if (value === undefined) return notBuffered;
    return value === deleted ? undefined : (value as V);
  }

  /** The pending writes, for a flush; they stay readable until `written` is called with them. */
  take(): TakenWrites<V> {
    const taken = this.#pending;
    this.#pending = new Map();
    this.#taken.push(taken);
    return taken;
  }

  /** The bytes store holds a taken flush's writes (or refused them): they leave the buffer. */
  written(taken: TakenWrites<V>): void {
    this.#taken = this.#taken.filter((batch) => batch !== taken);
  }

  /** Forgets a pending write of `cacheKey` (restoration rewrote it underneath; it runs with no flush in flight). */
  delete(cacheKey: string): void {
    this.#pending.delete(cacheKey);
  }

  /** Drops the pending writes without writing them; taken ones are the bytes store's now. */
  discardPending(): void {
    this.#pending.clear();
  }

  clear(): void {
    this.#pending.clear();
    this.#taken = [];
  }

  get isEmpty(): boolean {
    return this.#pending.size === 0 && this.#taken.length === 0;
  }

  /** Every buffered key with its last value (undefined: deleted), each key once. */
  *unwritten(): IterableIterator<[string, V | undefined]> {
    const seen = new Set<string>();
    const batches = [this.#pending, ...[...this.#taken].reverse()];
    for (const batch of batches) {
      for (const [cacheKey, value] of batch) {
        if (seen.has(cacheKey)) continue;
        seen.add(cacheKey);
        yield [cacheKey, value === deleted ? undefined : (value as V)];
      }
    }
  }

  /** A taken flush's writes as key → value (undefined: deleted), in write order. */
  static *entriesOf<V>(taken: TakenWrites<V>): IterableIterator<[string, V | undefined]> {
    for (const [cacheKey, value] of taken) yield [cacheKey, value === deleted ? undefined : (value as V)];
  }
}
