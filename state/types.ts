/**
 * The contracts of the state layer. Two levels:
 *
 * - bytes stores (`BytesStore`) own the storage: LevelDB or memory, ordered by
 *   unsigned byte comparison of keys, written in atomic batches that can carry
 *   metadata (checkpoints) in the same batch;
 * - typed stores (`KeyValueStore`, `WindowStore`) are what processors see:
 *   string keys, object values, a write-back cache in front, and a changelog
 *   hook that captures every write that reaches the bytes store.
 *
 * `StateStore` is the lifecycle side a task drives (open, flush on commit,
 * close); processors never call it.
 */
import type { Serde } from '../schemas/index.js';

/** One write in an atomic batch; `value: null` deletes the key. */
export interface BytesWrite {
  readonly key: Buffer;
  readonly value: Buffer | null;
}

export interface BytesRange {
  /** Inclusive lower bound. */
  readonly gte?: Buffer;
  /** Exclusive upper bound. */
  readonly lt?: Buffer;
  readonly reverse?: boolean;
}

/** An ordered byte-key store: LevelDB on disk, or memory for tests. */
export interface BytesStore {
  readonly location: string | undefined;
  open(): Promise<void>;
  /** Synchronous point read (LevelDB's getSync): reads run on the per-record path. */
  get(key: Buffer): Buffer | undefined;
  /** Applies every write and every metadata entry atomically (one LevelDB batch). */
  write(writes: readonly BytesWrite[], meta?: ReadonlyMap<string, Buffer>): Promise<void>;
  readMeta(name: string): Promise<Buffer | undefined>;
  /**
   * Entries in key order (or reverse); metadata entries are never returned.
   * LevelDB reads a snapshot taken at the first `next()` (later writes are
   * not seen); memory reads the live map.
   */
  entries(range?: BytesRange): AsyncIterable<readonly [Buffer, Buffer]>;
  close(): Promise<void>;
  /** Closes (if open) and removes every byte this store holds, on disk too. */
  destroy(): Promise<void>;
}

/**
 * Receives every write that reaches a bytes store through the typed layer, in
 * order, for the store's changelog topic. Restoration writes bypass it.
 */
export interface ChangelogWriter {
  append(key: Buffer, value: Buffer | null, timestampMs: number): void;
}

/** A change that the cache forwards when it flushes (coalesced per commit). */
export interface CacheFlushEntry<V> {
  readonly key: string;
  /** Window start for window stores; undefined for key-value stores. */
  readonly windowStartMs: number | undefined;
  /** The new value; undefined when the entry was deleted. */
  readonly newValue: V | undefined;
  /** The value as of the previous flush; undefined when there was none, or when the listener set `sendOldValues: false`. */
  readonly oldValue: V | undefined;
  /** Timestamp of the last write to this entry since the previous flush. */
  readonly timestampMs: number;
}

/** Called per flushed entry, in write order, synchronously (it forwards downstream like a processor). */
export type CacheFlushListener<V> = (entry: CacheFlushEntry<V>) => void;

export interface FlushListenerOptions {
  /**
   * Whether the listener reads `oldValue` (default true). Without it, a key
   * first written without being read is flushed without reading its old
   * value from the bytes store (Kafka Streams' `sendOldValues`).
   */
  readonly sendOldValues?: boolean;
}

export interface KeyValue<V> {
  readonly key: string;
  readonly value: V;
}

export interface WindowEntry<V> {
  readonly key: string;
  readonly windowStartMs: number;
  readonly value: V;
}

/**
 * Queries and interactive-query callers get this; it cannot write. A scan
 * (range, prefixScan, all) shows the store as it was at its first `next()`,
 * un-flushed writes included, however long it takes and whatever is written
 * meanwhile (on LevelDB; a memory store's scan reads the live map).
 */
export interface ReadOnlyKeyValueStore<V> {
  readonly name: string;
  /** Synchronous: through the cache, then the bytes store. */
  get(key: string): V | undefined;
  /** Keys in [from, to) by UTF-8 byte order; an absent bound is open. */
  range(from?: string, to?: string): AsyncIterable<KeyValue<V>>;
  prefixScan(prefix: string): AsyncIterable<KeyValue<V>>;
  all(): AsyncIterable<KeyValue<V>>;
}

export interface KeyValueStore<V> extends ReadOnlyKeyValueStore<V> {
  /**
   * `timestampMs` is the time of the write (the record's timestamp) and goes
   * to the changelog; it defaults to the store's current time context.
   */
  put(key: string, value: V, timestampMs?: number): void;
  delete(key: string, timestampMs?: number): void;
}

/** Its scans (fetchRange, fetchAll, all) are snapshots as ReadOnlyKeyValueStore's are. */
export interface ReadOnlyWindowStore<V> {
  readonly name: string;
  readonly retentionMs: number;
  /** Synchronous: through the cache, then the bytes store. */
  fetch(key: string, windowStartMs: number): V | undefined;
  /** One key's windows with start in [fromStartMs, toStartMs] (both inclusive), by time. */
  fetchRange(key: string, fromStartMs: number, toStartMs: number): AsyncIterable<WindowEntry<V>>;
  /** Every key's windows with start in [fromStartMs, toStartMs] (both inclusive). */
  fetchAll(fromStartMs: number, toStartMs: number): AsyncIterable<WindowEntry<V>>;
  all(): AsyncIterable<WindowEntry<V>>;
}

export interface WindowStore<V> extends ReadOnlyWindowStore<V> {
  /**
   * Stores the window's value; `undefined` deletes it. A put for a window that
   * is already past retention (by the store's observed time) is ignored and
   * returns false.
   */
  put(key: string, windowStartMs: number, value: V | undefined, timestampMs?: number): boolean;
  /**
   * `fetch` for the last read of a window before it closes (its final
   * record): what is read from the bytes store is not cached, and a clean
   * cached entry is dropped, so closed windows leave room for open ones. A
   * later read still finds the value, in the bytes store.
   */
  fetchFinal(key: string, windowStartMs: number): V | undefined;
}

/** What a task drives; processors never see it. */
export interface StateStore {
  readonly name: string;
  readonly kind: StoreKind;
  readonly persistent: boolean;
  open(): Promise<void>;
  /**
   * Commit step: writes every dirty cache entry to the changelog hook and the
   * bytes store in one batch (with `meta` in the same batch), then calls the
   * flush listener for each entry in write order.
   */
  flush(meta?: ReadonlyMap<string, Buffer>): Promise<void>;
  /** True when the cache holds more entries than its capacity that only a flush can release: commit soon. */
  readonly needsFlush: boolean;
  readMeta(name: string): Promise<Buffer | undefined>;
  /** Applies changelog records directly to the bytes store (no cache, no changelog). */
  restore(records: readonly BytesWrite[], meta?: ReadonlyMap<string, Buffer>): Promise<void>;
  /** Drops uncommitted cache contents without writing them (dirty close). */
  discardCache(): void;
  close(): Promise<void>;
  /** Close and delete local data (wipe before restoring from the changelog). */
  destroy(): Promise<void>;
}

export const storeKinds = ['keyValue', 'window'] as const;
export type StoreKind = (typeof storeKinds)[number];

/** Declares a store; the task's store factory builds it per task. */
export interface StoreSpec<V = unknown> {
  readonly name: string;
  readonly kind: StoreKind;
  /** LevelDB on disk when true, memory when false. */
  readonly persistent: boolean;
  /** Write-back cache in front of the bytes store, flushed on commit. */
  readonly caching: boolean;
  /** Capture writes for a changelog topic. */
  readonly logging: boolean;
  readonly valueSerde: Serde<V>;
  /** Window stores: how long windows are kept, by window start, behind observed time. */
  readonly retentionMs?: number;
  /** Window stores: the span of one segment; defaults to max(retention / 2, 60 s). */
  readonly segmentIntervalMs?: number;
  /** Window stores: window size, so `end = start + size` is known to retention. */
  readonly windowSizeMs?: number;
  /** Cache capacity in entries; a dirty entry evicted early is written through. */
  readonly cacheMaxEntries?: number;
  /**
   * Window stores whose keys are written once and never changed (dedupe):
   * log each flush as a few batch records instead of one record per key.
   * Fewer records to produce and restore; nothing is compacted away by key,
   * the changelog's time retention removes batches. See changelog-batch.ts.
   */
  readonly logBatches?: boolean;
  /**
   * Window stores whose point reads mostly miss (dedupe: every new identity
   * is looked up in every live bucket): keep a Bloom filter of each
   * segment's keys in memory (~1.25 bytes a key), so that a read of a key a
   * segment does not hold skips LevelDB. See key-filter.ts.
   */
  readonly keyFilter?: boolean;
}
