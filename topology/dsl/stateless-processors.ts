/**
 * The stateless DSL operators, each a tiny processor. The DSL compiles to
 * these once, so the per-record path is plain function calls.
 */
import type { Processor, ProcessorContext, ProcessorSupplier } from '../processor.js';
import type { Change, StreamRecord } from '../record.js';

export interface KeyValuePair<K, V> {
  readonly key: K;
  readonly value: V;
}

function stateless<KIn, VIn, KOut, VOut>(
  handle: (record: StreamRecord<KIn, VIn>, context: ProcessorContext<KOut, VOut>) => void,
): ProcessorSupplier<KIn, VIn, KOut, VOut> {
  return () => {
    let context: ProcessorContext<KOut, VOut>;
    const processor: Processor<KIn, VIn, KOut, VOut> = {
      init: (ctx) => {
        context = ctx;
      },
      process: (record) => {
        handle(record, context);
      },
    };
    return processor;
  };
}

export const filterProcessor = <K, V>(predicate: (key: K, value: V) => boolean) =>
  stateless<K, V, K, V>((record, context) => (predicate(record.key, record.value) ? context.forward(record) : undefined));

export const mapProcessor = <K, V, K2, V2>(mapper: (key: K, value: V) => KeyValuePair<K2, V2>) =>
  stateless<K, V, K2, V2>((record, context) => {
    const { key, value } = mapper(record.key, record.value);
    return context.forward(record.withKey(key).withValue(value));
  });

export const mapValuesProcessor = <K, V, V2>(mapper: (value: V, key: K) => V2) =>
  stateless<K, V, K, V2>((record, context) => context.forward(record.withValue(mapper(record.value, record.key))));

export const selectKeyProcessor = <K, V, K2>(selector: (key: K, value: V) => K2) =>
  stateless<K, V, K2, V>((record, context) => context.forward(record.withKey(selector(record.key, record.value))));

export const flatMapProcessor = <K, V, K2, V2>(mapper: (key: K, value: V) => Iterable<KeyValuePair<K2, V2>>) =>
  stateless<K, V, K2, V2>((record, context) => {
    for (const { key, value } of mapper(record.key, record.value)) context.forward(record.withKey(key).withValue(value));
  });

export const peekProcessor = <K, V>(action: (key: K, value: V) => void) =>
  stateless<K, V, K, V>((record, context) => {
    action(record.key, record.value);
    return context.forward(record);
  });

/** KTable → KStream: the new value of each change; a deletion becomes a null value (a tombstone downstream). */
export const toStreamProcessor = <K, V>() =>
  stateless<K, Change<V>, K, V | null>((record, context) => context.forward(record.withValue(record.value.newValue ?? null)));
