/**
 * The window store's bytes level: window keys (see key-codec) spread over time
 * segments, each its own bytes store (one LevelDB directory
 * `<location>/<segmentStartMs>`, or memory). Retention drops a segment whole,
 * never key by key: LevelDB deletes leave tombstones that slow every later scan.
 */
import { readdir, rm, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { StateStoreError } from '../schemas/index.js';
import { windowStartOf } from './key-codec.js';
import { KeyFilter } from './key-filter.js';
import { LevelBytesStore } from './level-bytes-store.js';
import { MemoryBytesStore } from './memory-bytes-store.js';
import type { BytesRange, BytesStore, BytesWrite } from './types.js';

export interface SegmentedBytesStoreOptions {
  /** Directory that holds one LevelDB per segment; undefined keeps segments in memory. */
  readonly location: string | undefined;
  /** Windows with start <= observedTimeMs - retentionMs are gone. */
  readonly retentionMs: number;
  /** Time span of one segment, by window start. */
  readonly segmentIntervalMs: number;
  /**
   * Keep a key filter (key-filter.ts) for each segment on disk, so that
   * point reads of keys a segment does not hold skip LevelDB: for stores
   * whose reads mostly miss (dedupe). Costs ~1.25 bytes of memory per key.
   * Default false; ignored in memory (a map read is cheaper than the filter).
   */
  readonly filterKeys?: boolean;
  /** A segment's filter past this many bytes is dropped; default `maxFilterBytesPerSegment`. */
  readonly maxFilterBytes?: number;
}

interface Segment {
  readonly startMs: number;
  readonly store: BytesStore;
  /** Sequence number of the last checkpoint (metadata) written here; undefined if none. */
  metaSeq: number | undefined;
  /** Its key filter (`filterKeys`); dropped when it outgrows `maxFilterBytesPerSegment`. */
  filter: SegmentFilter | undefined;
}

/**
 * A filter holds every key of its segment once `complete`: a segment this
 * store creates starts empty and complete, and every write goes into the
 * filter before LevelDB. A segment found on disk at open gets its filter at
 * once, for the writes to come, and a scan of the keys it already holds
 * (a LevelDB snapshot taken after the open) completes it; until then reads
 * of that segment go to LevelDB.
 */
interface SegmentFilter {
  readonly keys: KeyFilter;
  complete: boolean;
}

/** A segment's filter past this many bytes (~25 M keys) is dropped: its reads go to LevelDB, as without one. */
const maxFilterBytesPerSegment = 32 * 1024 * 1024;

/** Reserved metadata names (a leading NUL keeps them apart from callers' names). */
const observedMetaName = '\u0000observedTimeMs';
const seqMetaName = '\u0000metaSeq';
const metaStoreDir = 'meta';

function u64(value: number): Buffer {
  const out = Buffer.allocUnsafe(8);
  out.writeBigUInt64BE(BigInt(value));
  return out;
}

function readU64(bytes: Buffer | undefined): number | undefined {
  return bytes === undefined ? undefined : Number(bytes.readBigUInt64BE(0));
}

/**
 * Keys must be window keys: the segment comes from their last 8 bytes.
 * `entries()` walks segments in time order and keys within each segment, so it
 * is not one global byte order. Writes are serialized internally.
 */
export class SegmentedBytesStore implements BytesStore {
  readonly location: string | undefined;
  readonly retentionMs: number;
  readonly segmentIntervalMs: number;
  readonly #filterKeys: boolean;
  readonly #maxFilterBytes: number;
  /** Point reads a filter answered (no LevelDB read). */
  #filteredReads = 0;
  /** The scans that complete the filters of segments found at open. */
  #filling: Promise<void> = Promise.resolve();
  /** Live segments by start; `#order` holds their starts ascending. */
  readonly #segments = new Map<number, Segment>();
  #order: number[] = [];
  #metaStore: BytesStore | undefined;
  #observedTimeMs = -1;
  #metaSeq = 0;
  #isOpen = false;
  #writeQueue: Promise<void> = Promise.resolve();

  constructor(options: SegmentedBytesStoreOptions) {
    this.location = options.location;
    this.retentionMs = options.retentionMs;
    this.segmentIntervalMs = options.segmentIntervalMs;
    this.#filterKeys = options.filterKeys === true && options.location !== undefined;
    this.#maxFilterBytes = options.maxFilterBytes ?? maxFilterBytesPerSegment;
  }

  /** Largest window start ever written or restored (persisted with each batch); -1 before any. */
  get observedTimeMs(): number {
    return this.#observedTimeMs;
  }

  /** Starts (ms) of the live segments, ascending. */
  get segmentStartsMs(): readonly number[] {
    return this.#order;
  }

  segmentStartOf(windowStartMs: number): number {
    return windowStartMs - (windowStartMs % this.segmentIntervalMs);
  }

  /**
   * False when no segment holds `cacheKey` (the latin1 form of a window key
   * starting at `windowStartMs`): its segment does not exist, or its filter
   * has never seen the key. The one place a filter is asked: a read that
   * gets false needs no LevelDB read, nor the key's bytes to make one.
   */
  mayHold(cacheKey: string, windowStartMs: number): boolean {
    const segment = this.#segments.get(this.segmentStartOf(windowStartMs));
    if (segment === undefined) return false;
    const filter = segment.filter;
    if (filter === undefined || !filter.complete || filter.keys.mightContain(cacheKey)) return true;
    this.#filteredReads++;
    return false;
  }

  /** Reads `mayHold` answered from a key filter (false, with the segment there), since the store was made. */
  get filteredReads(): number {
    return this.#filteredReads;
  }

  /** Resolves when the filters of the segments found at open are complete (or dropped). */
  filtersFilled(): Promise<void> {
    return this.#filling;
  }

  /** True when a window with this start is past retention. */
  isExpired(windowStartMs: number): boolean {
    return windowStartMs <= this.#observedTimeMs - this.retentionMs;
  }

  /**
   * Advances observed time to `windowStartMs` (a put the cache holds before it
   * reaches this store) and returns false when that window is already expired.
   */
  observe(windowStartMs: number): boolean {
    if (windowStartMs > this.#observedTimeMs) this.#observedTimeMs = windowStartMs;
    return !this.isExpired(windowStartMs);
  }

  async open(): Promise<void> {
    if (this.#isOpen) return;
    try {
      await this.#openStores();
    } catch (error) {
      // Release the segments that did open (their LOCKs) before reporting the one that did not.
      this.#isOpen = true;
      await this.close().catch(() => undefined);
      throw error;
    }
    this.#isOpen = true;
    if (this.#filterKeys) this.#filling = Promise.all([...this.#segments.values()].map((segment) => this.#fillFilter(segment))).then(() => undefined);
  }

  /** Gives a segment found at open its filter, and completes it from the keys the segment holds. */
  async #fillFilter(segment: Segment): Promise<void> {
    const filter: SegmentFilter = { keys: new KeyFilter(), complete: false };
    segment.filter = filter;
    try {
      for await (const [key] of segment.store.entries()) {
        if (segment.filter !== filter) return;
        this.#addToFilter(segment, key);
      }
      // A scan cut short by a close is no proof of anything: only a live segment's is.
      if (segment.filter === filter && this.#isOpen && this.#segments.get(segment.startMs) === segment) filter.complete = true;
    } catch {
      // Closed (or dropped as expired) under the scan: the segment's reads go to LevelDB.
      if (segment.filter === filter) segment.filter = undefined;
    }
  }

  /** Adds the key to the segment's filter, if it (still) has one. */
  #addToFilter(segment: Segment, key: Buffer): void {
    const filter = segment.filter;
    if (filter === undefined) return;
    filter.keys.add(key);
    if (filter.keys.byteSize > this.#maxFilterBytes) segment.filter = undefined;
  }

  async #openStores(): Promise<void> {
    if (this.location !== undefined) await this.#discoverSegments(this.location);
    for (const segment of this.#segments.values()) {
      await segment.store.open();
      segment.metaSeq = readU64(await segment.store.readMeta(seqMetaName));
      this.#noteObserved(await segment.store.readMeta(observedMetaName));
    }
    this.#metaStore ??= this.#newStore(metaStoreDir);
    await this.#metaStore.open();
    const seqs = [readU64(await this.#metaStore.readMeta(seqMetaName)), ...[...this.#segments.values()].map((s) => s.metaSeq)];
    this.#noteObserved(await this.#metaStore.readMeta(observedMetaName));
    for (const seq of seqs) if (seq !== undefined && seq > this.#metaSeq) this.#metaSeq = seq;
  }

  get(key: Buffer): Buffer | undefined {
    this.#checkOpen();
    const segment = this.#segments.get(this.segmentStartOf(windowStartOf(key)));
    return segment === undefined ? undefined : segment.store.get(key);
  }

  /**
   * Writes each window to its segment, ignoring windows past retention, then
   * drops expired segments. `meta` goes into every live segment in the same
   * batch as that segment's writes, so each segment's checkpoint is atomic
   * with its data (into a separate meta store when there is no segment).
   */
  write(writes: readonly BytesWrite[], meta?: ReadonlyMap<string, Buffer>): Promise<void> {
    this.#checkOpen();
    const next = this.#writeQueue.then(() => this.#write(writes, meta));
    this.#writeQueue = next.catch(() => undefined);
    return next;
  }

  /**
   * The checkpoint to restore from is the OLDEST among segments (lowest
   * sequence number). Segments are separate databases, so a crash between
   * their batches can leave some with the new checkpoint and some with the
   * previous one. Changelog records are full-value overwrites, so restoring
   * from an older offset re-applies records idempotently, while restoring from
   * a newer one would skip records that a lagging segment never got. A segment
   * with no checkpoint at all makes the answer undefined (restore everything).
   */
  async readMeta(name: string): Promise<Buffer | undefined> {
    this.#checkOpen();
    if (this.#segments.size === 0) return (this.#metaStore as BytesStore).readMeta(name);
    let oldest: Segment | undefined;
    for (const segment of this.#segments.values()) {
      if (segment.metaSeq === undefined) return undefined;
      if (oldest === undefined || segment.metaSeq < (oldest.metaSeq as number)) oldest = segment;
    }
    return (oldest as Segment).store.readMeta(name);
  }

  /** Every segment in time order (reverse: newest first), each in key order. */
  entries(range: BytesRange = {}): AsyncIterable<readonly [Buffer, Buffer]> {
    return this.fetchEntries(0, Number.MAX_SAFE_INTEGER, range);
  }

  /**
   * Entries whose window start is in [fromStartMs, toStartMs] (inclusive),
   * read only from the segments that span that interval, in segment time order.
   * Every segment's iterator is opened in the first step of the scan, so on
   * LevelDB the whole scan reads one moment of every segment (a write landing
   * in a later segment while an earlier one is read is not seen).
   */
  async *fetchEntries(fromStartMs: number, toStartMs: number, range: BytesRange = {}): AsyncGenerator<readonly [Buffer, Buffer]> {
    this.#checkOpen();
    const starts = this.#order.filter((startMs) => startMs <= toStartMs && startMs + this.segmentIntervalMs > fromStartMs);
    if (range.reverse === true) starts.reverse();
    const scans = starts.map((startMs) => openSegmentScan(this.#segments.get(startMs) as Segment, range));
    try {
      for (const scan of scans) {
        try {
          for (let step = await scan.first; step.done !== true; step = await scan.iterator.next()) {
            const windowStartMs = windowStartOf(step.value[0]);
            if (windowStartMs >= fromStartMs && windowStartMs <= toStartMs) yield step.value;
          }
        } catch (error) {
          // A write under this scan may drop the segment (closing its iterator); it only held expired windows.
          if (this.#segments.get(scan.segment.startMs) === scan.segment) throw error;
        }
      }
    } finally {
      await Promise.all(scans.map((scan) => scan.first.then(() => scan.iterator.return?.(undefined)).catch(() => undefined)));
    }
  }

  async close(): Promise<void> {
    if (!this.#isOpen) return;
    this.#isOpen = false;
    await this.#writeQueue;
    await Promise.all([...this.#segments.values()].map((segment) => segment.store.close()));
    await this.#filling;
    await this.#metaStore?.close();
    // On disk, the next open() rediscovers the segments; in memory they are kept.
    if (this.location !== undefined) {
      this.#segments.clear();
      this.#order = [];
      this.#metaStore = undefined;
    }
  }

  async destroy(): Promise<void> {
    await this.close();
    await Promise.all([...this.#segments.values()].map((segment) => segment.store.destroy()));
    await this.#metaStore?.destroy();
    this.#segments.clear();
    this.#order = [];
    this.#metaStore = undefined;
    this.#observedTimeMs = -1;
    this.#metaSeq = 0;
    if (this.location !== undefined) await rm(this.location, { recursive: true, force: true });
  }

  async #write(writes: readonly BytesWrite[], meta: ReadonlyMap<string, Buffer> | undefined): Promise<void> {
    const groups = new Map<number, BytesWrite[]>();
    for (const write of writes) {
      const windowStartMs = windowStartOf(write.key);
      // Advancing as we go (not to the batch maximum) matches applying the puts one by one.
      if (!this.observe(windowStartMs)) continue;
      const startMs = this.segmentStartOf(windowStartMs);
      const group = groups.get(startMs);
      if (group === undefined) groups.set(startMs, [write]);
      else group.push(write);
    }
    await this.#dropExpiredSegments();
    const batchMeta = new Map(meta);
    if (this.#observedTimeMs >= 0) batchMeta.set(observedMetaName, u64(this.#observedTimeMs));
    const seq = meta === undefined ? undefined : ++this.#metaSeq;
    if (seq !== undefined) batchMeta.set(seqMetaName, u64(seq));
    for (const startMs of groups.keys()) {
      if (this.#isSegmentExpired(startMs)) groups.delete(startMs);
      else if (!this.#segments.has(startMs)) await this.#createSegment(startMs);
    }
    const targets = seq === undefined ? [...groups.keys()] : this.#order;
    await Promise.all(
      targets.map(async (startMs) => {
        const segment = this.#segments.get(startMs) as Segment;
        const group = groups.get(startMs) ?? [];
        // Into the filter before the write begins: a key a read can find in LevelDB is always in it.
        if (segment.filter !== undefined) for (const write of group) this.#addToFilter(segment, write.key);
        await segment.store.write(group, batchMeta);
        if (seq !== undefined) segment.metaSeq = seq;
      }),
    );
    if (seq !== undefined && this.#segments.size === 0) {
      await (this.#metaStore as BytesStore).write([], batchMeta);
    }
  }

  /** A segment is expired when every window start it can hold is expired. */
  #isSegmentExpired(startMs: number): boolean {
    return this.isExpired(startMs + this.segmentIntervalMs - 1);
  }

  async #dropExpiredSegments(): Promise<void> {
    const expired = this.#order.filter((startMs) => this.#isSegmentExpired(startMs));
    if (expired.length === 0) return;
    this.#order = this.#order.filter((startMs) => !this.#isSegmentExpired(startMs));
    for (const startMs of expired) {
      const segment = this.#segments.get(startMs) as Segment;
      this.#segments.delete(startMs);
      await segment.store.destroy();
    }
  }

  async #createSegment(startMs: number): Promise<void> {
    const store = this.#newStore(String(startMs));
    await store.open();
    this.#segments.set(startMs, { startMs, store, metaSeq: undefined, filter: this.#filterKeys ? { keys: new KeyFilter(), complete: true } : undefined });
    this.#order = [...this.#segments.keys()].sort((a, b) => a - b);
  }

  #newStore(dirName: string): BytesStore {
    return this.location === undefined ? new MemoryBytesStore(dirName) : new LevelBytesStore(path.join(this.location, dirName));
  }

  async #discoverSegments(location: string): Promise<void> {
    await mkdir(location, { recursive: true });
    for (const entry of await readdir(location, { withFileTypes: true })) {
      if (!entry.isDirectory() || !/^\d+$/.test(entry.name)) continue;
      const startMs = Number(entry.name);
      if (startMs % this.segmentIntervalMs !== 0) {
        throw new StateStoreError(
          'state-segment-mismatch',
          `window store segment ${path.join(location, entry.name)} does not start on a multiple of segmentIntervalMs ${this.segmentIntervalMs}; ` +
            `the segment interval or retention changed. Delete the directory ${location}; it is restored from its changelog topic on the next start.`,
        );
      }
      this.#segments.set(startMs, { startMs, store: this.#newStore(entry.name), metaSeq: undefined, filter: undefined });
    }
    this.#order = [...this.#segments.keys()].sort((a, b) => a - b);
  }

  #noteObserved(bytes: Buffer | undefined): void {
    const observedMs = readU64(bytes);
    if (observedMs !== undefined && observedMs > this.#observedTimeMs) this.#observedTimeMs = observedMs;
  }

  #checkOpen(): void {
    if (!this.#isOpen) {
      throw new StateStoreError('state-closed', `window store ${this.location ?? '(in memory)'} is not open; open() it first (or it was closed)`);
    }
  }
}

interface SegmentScan {
  readonly segment: Segment;
  readonly iterator: AsyncIterator<readonly [Buffer, Buffer]>;
  /** The first step, asked for at once: that opens the segment's iterator (and its snapshot) now. */
  readonly first: Promise<IteratorResult<readonly [Buffer, Buffer]>>;
}

function openSegmentScan(segment: Segment, range: BytesRange): SegmentScan {
  const iterator = segment.store.entries(range)[Symbol.asyncIterator]();
  const first = iterator.next();
  // Awaited in turn later; until then a failure (a segment dropped meanwhile) must not go unhandled.
  first.catch(() => undefined);
  return { segment, iterator, first };
}
