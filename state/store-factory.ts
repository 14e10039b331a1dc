/**
 * Builds a task's stores from their specs: bytes store (LevelDB or memory),
 * optional write-back cache and optional changelog hook, in one place.
 */
import path from 'node:path';
import { StateStoreError } from '../schemas/index.js';
import { LayeredKeyValueStore } from './key-value-store.js';
import { LevelBytesStore } from './level-bytes-store.js';
import { MemoryBytesStore } from './memory-bytes-store.js';
import type { CacheBudget } from './cache-budget.js';
import { defaultCacheMaxEntries } from './record-cache.js';
import { SegmentedBytesStore } from './segmented-bytes-store.js';
import type { CacheFlushListener, ChangelogWriter, FlushListenerOptions, KeyValueStore, StateStore, StoreSpec, WindowStore } from './types.js';
import { LayeredWindowStore } from './window-store.js';

/** What a task gives the factory. */
export interface StoreContext {
  /** Root of persistent stores (app.stateDir); required when a spec is persistent. */
  readonly stateDir?: string;
  /** The task's id, e.g. "0_3"; persistent stores live at `<stateDir>/<taskId>/<storeName>`. */
  readonly taskId: string;
  /** Receives the writes of stores whose spec has `logging: true`; without it nothing is logged. */
  readonly changelog?: ChangelogWriter;
  /** Timestamp (ms) for writes that do not pass one: the current record's timestamp. */
  readonly currentTimestampMs: () => number;
  /** The byte budget the caches of every store of the instance share; default: unlimited. */
  readonly cacheBudget?: CacheBudget;
}

export interface FlushListenerTarget<V> {
  /** Receives coalesced changes when the cache flushes or evicts; unused without caching. */
  setFlushListener(listener: CacheFlushListener<V> | undefined, options?: FlushListenerOptions): void;
}

export type KeyValueStateStore<V> = KeyValueStore<V> & StateStore & FlushListenerTarget<V>;

export type WindowStateStore<V> = WindowStore<V> &
  StateStore &
  FlushListenerTarget<V> & {
    /** Largest window start put or restored so far; -1 before any. */
    readonly observedTimeMs: number;
  };

/** Minimum default segment span (ms). */
const minDefaultSegmentIntervalMs = 60_000;
// Store names end up in directory names and changelog topic names: Kafka's topic alphabet, no dot-only names.
const safeName = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

function invalid(spec: StoreSpec<unknown>, problem: string): StateStoreError {
  return new StateStoreError('state-spec-invalid', `store ${JSON.stringify(spec.name)}: ${problem}`);
}

function isPositiveInteger(value: number | undefined): value is number {
  return value !== undefined && Number.isSafeInteger(value) && value > 0;
}

/** Where a persistent store lives on disk (`<stateDir>/<taskId>/<storeName>`); undefined in memory. */
export function storeLocation(spec: StoreSpec<unknown>, context: StoreContext): string | undefined {
  if (!safeName.test(spec.name)) throw invalid(spec, 'a store name may use only letters, digits, ".", "_" and "-"');
  if (!spec.persistent) return undefined;
  if (!safeName.test(context.taskId)) {
    throw invalid(spec, `task id ${JSON.stringify(context.taskId)} may use only letters, digits, ".", "_" and "-"`);
  }
  if (context.stateDir === undefined || context.stateDir === '') {
    throw new StateStoreError(
      'state-dir-missing',
      `store ${JSON.stringify(spec.name)} is persistent but no state directory was given; set app.stateDir, or declare the store in-memory`,
    );
  }
  return path.join(context.stateDir, context.taskId, spec.name);
}

function commonOptions<V>(spec: StoreSpec<V>, context: StoreContext) {
  const cacheMaxEntries = spec.caching ? (spec.cacheMaxEntries ?? defaultCacheMaxEntries) : undefined;
  if (cacheMaxEntries !== undefined && cacheMaxEntries !== Number.POSITIVE_INFINITY && !isPositiveInteger(cacheMaxEntries)) {
    throw invalid(spec, `cacheMaxEntries must be an integer >= 1, got ${String(cacheMaxEntries)}`);
  }
  if (spec.logging && context.changelog === undefined) {
    throw invalid(spec, 'logging is on but no changelog writer was given: pass one, or declare the store with logging: false');
  }
  if (spec.keyFilter === true && spec.kind !== 'window') {
    throw invalid(spec, 'keyFilter needs a window store: it filters the keys of each time segment');
  }
  if (spec.logBatches === true && spec.kind !== 'window') {
    throw invalid(spec, 'logBatches needs a window store: a key-value changelog is compacted by key and has no time retention to remove batches');
  }
  return {
    logBatches: spec.logBatches === true,
    name: spec.name,
    persistent: spec.persistent,
    valueSerde: spec.valueSerde,
    changelog: spec.logging ? context.changelog : undefined,
    cacheMaxEntries,
    ...(context.cacheBudget === undefined ? {} : { cacheBudget: context.cacheBudget }),
    currentTimestampMs: context.currentTimestampMs,
  };
}

/** A key-value store for one task; call `open()` before use. */
export function createKeyValueStore<V>(spec: StoreSpec<V>, context: StoreContext): KeyValueStateStore<V> {
  if (spec.kind !== 'keyValue') throw invalid(spec, `createKeyValueStore needs kind "keyValue", got "${spec.kind}"`);
  const location = storeLocation(spec, context);
  const bytes = location === undefined ? new MemoryBytesStore(spec.name) : new LevelBytesStore(location);
  return new LayeredKeyValueStore<V>({ ...commonOptions(spec, context), bytes });
}

/** A segmented window store for one task; call `open()` before use. */
export function createWindowStore<V>(spec: StoreSpec<V>, context: StoreContext): WindowStateStore<V> {
  if (spec.kind !== 'window') throw invalid(spec, `createWindowStore needs kind "window", got "${spec.kind}"`);
  const { retentionMs, windowSizeMs } = spec;
  if (!isPositiveInteger(retentionMs)) throw invalid(spec, `retentionMs must be an integer >= 1 (ms), got ${String(retentionMs)}`);
  if (windowSizeMs !== undefined && !isPositiveInteger(windowSizeMs)) {
    throw invalid(spec, `windowSizeMs must be an integer >= 1 (ms), got ${String(windowSizeMs)}`);
  }
  if (windowSizeMs !== undefined && retentionMs < windowSizeMs) {
    throw invalid(spec, `retentionMs ${retentionMs} is shorter than windowSizeMs ${windowSizeMs}; windows would expire before they end`);
  }
  const segmentIntervalMs = spec.segmentIntervalMs ?? Math.max(Math.floor(retentionMs / 2), minDefaultSegmentIntervalMs);
  if (!isPositiveInteger(segmentIntervalMs)) {
    throw invalid(spec, `segmentIntervalMs must be an integer >= 1 (ms), got ${String(segmentIntervalMs)}`);
  }
  const bytes = new SegmentedBytesStore({ location: storeLocation(spec, context), retentionMs, segmentIntervalMs, filterKeys: spec.keyFilter === true });
  return new LayeredWindowStore<V>({ ...commonOptions(spec, context), bytes, windowSizeMs });
}

/** Builds either kind from its spec (what a task does for each store of its sub-topology). */
export function createStateStore<V>(spec: StoreSpec<V>, context: StoreContext): KeyValueStateStore<V> | WindowStateStore<V> {
  return spec.kind === 'window' ? createWindowStore(spec, context) : createKeyValueStore(spec, context);
}
