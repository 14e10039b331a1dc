/**
 * The in-memory bytes store: the same contract as the LevelDB store, for tests
 * and for stores declared non-persistent.
 */
import { StateStoreError } from '../schemas/index.js';
import type { BytesRange, BytesStore, BytesWrite } from './types.js';

/**
 * Keys are held as latin1 strings (one char per byte), whose JavaScript
 * ordering is exactly `Buffer.compare` order, in a sorted array for range
 * scans beside a Map for point reads. Data survives `close()`/`open()` of the
 * same instance; `destroy()` drops it. Stored buffers are not copied: callers
 * must not reuse a buffer after writing it or mutate one they read.
 */
export class MemoryBytesStore implements BytesStore {
  readonly location: string | undefined = undefined;
  readonly #values = new Map<string, Buffer>();
  readonly #meta = new Map<string, Buffer>();
  #sortedKeys: string[] = [];
  /** Bumped whenever the sorted array changes shape, so live iterators re-seek. */
  #layoutVersion = 0;
  #isOpen = false;

  constructor(readonly name = 'memory') {}

  async open(): Promise<void> {
    this.#isOpen = true;
  }

  get(key: Buffer): Buffer | undefined {
    this.#checkOpen();
    return this.#values.get(key.toString('latin1'));
  }

  async write(writes: readonly BytesWrite[], meta?: ReadonlyMap<string, Buffer>): Promise<void> {
    this.#checkOpen();
    // Nothing here can fail half-way, so applying in order is atomic.
    for (const { key, value } of writes) {
      const stored = key.toString('latin1');
      if (value === null) {
        if (this.#values.delete(stored)) this.#removeSorted(stored);
      } else if (this.#values.has(stored)) {
        this.#values.set(stored, value);
      } else {
        this.#values.set(stored, value);
        this.#insertSorted(stored);
      }
    }
    if (meta !== undefined) for (const [name, value] of meta) this.#meta.set(name, value);
  }

  async readMeta(name: string): Promise<Buffer | undefined> {
    this.#checkOpen();
    return this.#meta.get(name);
  }

  async *entries(range: BytesRange = {}): AsyncGenerator<readonly [Buffer, Buffer]> {
    this.#checkOpen();
    const gte = range.gte?.toString('latin1');
    const lt = range.lt?.toString('latin1');
    if (range.reverse === true) {
      yield* this.#backward(gte, lt);
    } else {
      yield* this.#forward(gte, lt);
    }
  }

  *#forward(gte: string | undefined, lt: string | undefined): Generator<readonly [Buffer, Buffer]> {
    let version = this.#layoutVersion;
    let index = gte === undefined ? 0 : lowerBound(this.#sortedKeys, gte);
    let last: string | undefined;
    for (;;) {
      if (version !== this.#layoutVersion) {
        version = this.#layoutVersion;
        if (last !== undefined) index = upperBound(this.#sortedKeys, last);
        else index = gte === undefined ? 0 : lowerBound(this.#sortedKeys, gte);
      }
      const key = this.#sortedKeys[index++];
      if (key === undefined || (lt !== undefined && key >= lt) || !this.#isOpen) return;
      last = key;
      yield [Buffer.from(key, 'latin1'), this.#values.get(key) as Buffer];
    }
  }

  *#backward(gte: string | undefined, lt: string | undefined): Generator<readonly [Buffer, Buffer]> {
    let version = this.#layoutVersion;
    let index = (lt === undefined ? this.#sortedKeys.length : lowerBound(this.#sortedKeys, lt)) - 1;
    let last: string | undefined;
    for (;;) {
      if (version !== this.#layoutVersion) {
        version = this.#layoutVersion;
        const bound = last ?? lt;
        index = (bound === undefined ? this.#sortedKeys.length : lowerBound(this.#sortedKeys, bound)) - 1;
      }
      const key = index >= 0 ? this.#sortedKeys[index--] : undefined;
      if (key === undefined || (gte !== undefined && key < gte) || !this.#isOpen) return;
      last = key;
      yield [Buffer.from(key, 'latin1'), this.#values.get(key) as Buffer];
    }
  }

  async close(): Promise<void> {
    this.#isOpen = false;
  }

  async destroy(): Promise<void> {
    this.#isOpen = false;
    this.#values.clear();
    this.#meta.clear();
    this.#sortedKeys = [];
    this.#layoutVersion++;
  }

  #insertSorted(key: string): void {
    const index = lowerBound(this.#sortedKeys, key);
    // Appending in key order (common for time-ordered window keys) avoids a memmove.
    if (index === this.#sortedKeys.length) this.#sortedKeys.push(key);
    else this.#sortedKeys.splice(index, 0, key);
    this.#layoutVersion++;
  }

  #removeSorted(key: string): void {
    this.#sortedKeys.splice(lowerBound(this.#sortedKeys, key), 1);
    this.#layoutVersion++;
  }

  #checkOpen(): void {
    if (!this.#isOpen) {
      throw new StateStoreError('state-closed', `in-memory store ${this.name} is not open; open() it first (or it was closed)`);
    }
  }
}

/** First index whose key is >= `key`. */
function lowerBound(keys: readonly string[], key: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((keys[mid] as string) < key) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** First index whose key is > `key`. */
function upperBound(keys: readonly string[], key: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((keys[mid] as string) <= key) low = mid + 1;
    else high = mid;
  }
  return low;
}
