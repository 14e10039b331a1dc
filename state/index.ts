/**
 * The state layer's front door: store contracts, the factories a task uses to
 * build its stores, and read-only views for queries. The bytes stores are
 * exported for tests and benchmarks; everything else in this folder is internal.
 */
export * from './types.js';
export {
  createKeyValueStore,
  createStateStore,
  createWindowStore,
  storeLocation,
  type FlushListenerTarget,
  type KeyValueStateStore,
  type StoreContext,
  type WindowStateStore,
} from './store-factory.js';
export { readOnlyKeyValueStore, readOnlyWindowStore } from './read-only.js';
export { decodeKey } from './key-codec.js';
export { defaultCacheMaxEntries } from './record-cache.js';
export { CacheBudget, defaultCacheMaxBytes } from './cache-budget.js';
export { LevelBytesStore, levelDatabaseStats } from './level-bytes-store.js';
export { MemoryBytesStore } from './memory-bytes-store.js';
