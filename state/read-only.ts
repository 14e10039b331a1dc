/**
 * Read-only views for queries: they expose only the read methods, so a caller
 * cannot reach `put` by casting.
 */
import type { KeyValueStore, ReadOnlyKeyValueStore, ReadOnlyWindowStore, WindowStore } from './types.js';

export function readOnlyKeyValueStore<V>(store: KeyValueStore<V>): ReadOnlyKeyValueStore<V> {
  return Object.freeze({
    name: store.name,
    get: (key: string) => store.get(key),
    range: (from?: string, to?: string) => store.range(from, to),
    prefixScan: (prefix: string) => store.prefixScan(prefix),
    all: () => store.all(),
  });
}

export function readOnlyWindowStore<V>(store: WindowStore<V>): ReadOnlyWindowStore<V> {
  return Object.freeze({
    name: store.name,
    retentionMs: store.retentionMs,
    fetch: (key: string, windowStartMs: number) => store.fetch(key, windowStartMs),
    fetchRange: (key: string, fromStartMs: number, toStartMs: number) => store.fetchRange(key, fromStartMs, toStartMs),
    fetchAll: (fromStartMs: number, toStartMs: number) => store.fetchAll(fromStartMs, toStartMs),
    all: () => store.all(),
  });
}
