/**
 * Processors that emit what a store keeps when its cache flushes (billing
 * details, invoices, entitlement records) need the store to have a cache:
 * without one, nothing would ever be emitted.
 */
import type { CacheFlushListener, FlushListenerTarget, KeyValueStore } from '../state/index.js';

/** Hands `listener` every flushed change of `store`; `emitted` names what it emits, for the error. */
export function emitOnFlush<V>(store: KeyValueStore<V>, storeName: string, emitted: string, listener: CacheFlushListener<V>): void {
  const target = store as KeyValueStore<V> & Partial<FlushListenerTarget<V>>;
  if (target.setFlushListener === undefined) throw new TypeError(`store ${storeName} has no cache: ${emitted} are emitted when it flushes`);
  target.setFlushListener(listener);
}
