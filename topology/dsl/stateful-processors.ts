/**
 * The stateful DSL operators. Each reads and writes one named store. With
 * caching on, updates reach downstream when the cache flushes on commit,
 * coalesced per key; without it, on every record.
 */
import { TallyError } from '../../schemas/index.js';
import type { CacheFlushEntry, KeyValueStore, WindowStore } from '../../state/index.js';
import type { Processor, ProcessorContext, ProcessorSupplier } from '../processor.js';
import { StreamRecord, type Change, type Windowed } from '../record.js';
import type { TimeWindows } from './windows.js';

/** Store flush listeners can be attached by the DSL; plain stores may not support them. */
interface ListenableStore<V> {
  setFlushListener?(listener: (entry: CacheFlushEntry<V>) => void): void;
}

/** Header names on records sent to a windowed aggregate's late output. */
export const lateHeaders = {
  windowStart: 'tally.late.window-start',
  windowEnd: 'tally.late.window-end',
  streamTime: 'tally.late.stream-time',
  reason: 'tally.late.reason',
} as const;

function requireKey(record: StreamRecord<unknown, unknown>, node: string): string {
  if (typeof record.key === 'string') return record.key;
  throw new TallyError('aggregate-key-not-string', `node "${node}" needs a string key, got ${record.key === null ? 'null' : typeof record.key}: filter or selectKey before grouping`, {
    coordinates: { topic: record.topic, partition: record.partition, offset: String(record.offset), node },
  });
}

/** Forwards to every child but `excluded` (a side output such as the late records sink). */
function forwardExcept<K, V>(context: ProcessorContext<K, V>, record: StreamRecord<K, V>, excluded: string | undefined): void {
  if (excluded === undefined) {
    context.forward(record);
    return;
  }
  for (const child of context.childNames) if (child !== excluded) context.forward(record, child);
}

/** Forwards the store's changes downstream when its cache flushes on commit. */
function forwardOnFlush<K, V>(
  context: ProcessorContext<K, Change<V>>,
  store: ListenableStore<V>,
  toKey: (entry: CacheFlushEntry<V>) => K,
  excludedChild?: string,
): void {
  if (store.setFlushListener === undefined) {
    throw new TallyError('store-not-cached', `store of node "${context.nodeName}" has no cache to flush: build it with caching, or turn caching off in the DSL options`);
  }
  store.setFlushListener((entry) =>
    forwardExcept(
      context,
      new StreamRecord({ key: toKey(entry), value: { newValue: entry.newValue, oldValue: entry.oldValue }, timestampMs: entry.timestampMs }),
      excludedChild,
    ),
  );
}

/** Materializes a topic as a table: puts values, deletes on null, forwards changes. */
export function tableSourceProcessor<V>(storeName: string, cached: boolean): ProcessorSupplier<string, V | null, string, Change<V>> {
  return () => {
    let context: ProcessorContext<string, Change<V>>;
    let store: KeyValueStore<V>;
    const processor: Processor<string, V | null, string, Change<V>> = {
      init(ctx) {
        context = ctx;
        store = ctx.getKeyValueStore<V>(storeName);
        if (cached) forwardOnFlush(ctx, store as ListenableStore<V>, (e) => e.key);
      },
      process(record) {
        const key = requireKey(record, context.nodeName);
        const oldValue = cached ? undefined : store.get(key);
        if (record.value === null || record.value === undefined) store.delete(key, record.timestampMs);
        else store.put(key, record.value, record.timestampMs);
        if (!cached) context.forward(record.withValue({ newValue: record.value ?? undefined, oldValue }));
      },
    };
    return processor;
  };
}

export function aggregateProcessor<V, A>(
  storeName: string,
  cached: boolean,
  initializer: () => A,
  aggregator: (key: string, value: V, aggregate: A) => A,
): ProcessorSupplier<string, V, string, Change<A>> {
  return () => {
    let context: ProcessorContext<string, Change<A>>;
    let store: KeyValueStore<A>;
    return {
      init(ctx) {
        context = ctx;
        store = ctx.getKeyValueStore<A>(storeName);
        if (cached) forwardOnFlush(ctx, store as ListenableStore<A>, (e) => e.key);
      },
      process(record) {
        const key = requireKey(record, context.nodeName);
        const oldValue = store.get(key);
        const newValue = aggregator(key, record.value, oldValue ?? initializer());
        store.put(key, newValue, record.timestampMs);
        if (!cached) context.forward(record.withValue({ newValue, oldValue }));
      },
    };
  };
}

/**
 * Adds each record to every window that holds its timestamp and is still open
 * (`end + grace > stream time`). A record that falls in a closed window goes
 * to the child named `lateChild`, with the window and stream time in headers.
 */
export function windowedAggregateProcessor<V, A>(
  storeName: string,
  cached: boolean,
  windows: TimeWindows,
  lateChild: string,
  initializer: () => A,
  aggregator: (key: string, value: V, aggregate: A) => A,
): ProcessorSupplier<string, V, unknown, unknown> {
  return () => {
    let context: ProcessorContext<unknown, unknown>;
    let store: WindowStore<A>;
    const windowedKey = (key: string, startMs: number): Windowed<string> => ({ key, window: { startMs, endMs: startMs + windows.sizeMs } });
    return {
      init(ctx) {
        context = ctx;
        store = ctx.getWindowStore<A>(storeName);
        if (cached) {
          forwardOnFlush(ctx as ProcessorContext<Windowed<string>, Change<A>>, store as ListenableStore<A>, (e) => windowedKey(e.key, e.windowStartMs ?? 0), lateChild);
        }
      },
      process(record) {
        const key = requireKey(record, context.nodeName);
        const streamTimeMs = context.streamTimeMs;
        for (const window of windows.windowsFor(record.timestampMs)) {
          if (!windows.isOpen(window, streamTimeMs)) {
            context.forward(
              record.withHeaders({
                [lateHeaders.windowStart]: String(window.startMs),
                [lateHeaders.windowEnd]: String(window.endMs),
                [lateHeaders.streamTime]: String(streamTimeMs),
                [lateHeaders.reason]: 'window-closed',
              }),
              lateChild,
            );
            continue;
          }
          const oldValue = store.fetch(key, window.startMs);
          const newValue = aggregator(key, record.value, oldValue ?? initializer());
          store.put(key, window.startMs, newValue, record.timestampMs);
          if (!cached) forwardExcept(context, record.withKey<unknown>(windowedKey(key, window.startMs)).withValue<unknown>({ newValue, oldValue }), lateChild);
        }
      },
    };
  };
}

/** Stream–table join on the record key; `left` keeps stream records with no table row (table value undefined). */
export function streamTableJoinProcessor<V, T, R>(
  storeName: string,
  left: boolean,
  joiner: (value: V, tableValue: T | undefined, key: string) => R,
): ProcessorSupplier<string, V, string, R> {
  return () => {
    let context: ProcessorContext<string, R>;
    let table: KeyValueStore<T>;
    return {
      init(ctx) {
        context = ctx;
        table = ctx.getKeyValueStore<T>(storeName);
      },
      process(record) {
        const key = requireKey(record, context.nodeName);
        const tableValue = table.get(key);
        if (tableValue === undefined && !left) return;
        context.forward(record.withValue(joiner(record.value, tableValue, key)));
      },
    };
  };
}
