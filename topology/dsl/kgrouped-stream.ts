/**
 * Grouped streams: aggregations per key, over all time or per window. Every
 * aggregation is stateful and needs a name; a grouping whose key changed
 * upstream is repartitioned through `<name>-repartition` first.
 */
import { TopologyError, jsonSerde, stringSerde, type Serde } from '../../schemas/index.js';
import type { Windowed } from '../record.js';
import type { DslGraph, StoreOptions } from './dsl-graph.js';
import { KTable } from './ktable.js';
import { aggregateProcessor, windowedAggregateProcessor } from './stateful-processors.js';
import type { TimeWindows } from './windows.js';

export type Aggregator<V, A> = (key: string, value: V, aggregate: A) => A;
export type Reducer<V> = (aggregate: V, value: V) => V;

export interface WindowedStoreOptions<A, V> extends StoreOptions<A> {
  /**
   * Topic for records that arrive after their window closed. Required: a late
   * record is never dropped silently.
   */
  readonly lateTopic: string;
  /** Serializer for the late records' values (the input values); JSON by default. */
  readonly lateValueSerde?: Serde<V>;
  /** How long windows stay in the store, by window start; default and minimum size + grace. */
  readonly retentionMs?: number;
}

export class KGroupedStream<V> {
  constructor(
    private readonly graph: DslGraph,
    private readonly parent: string,
    private readonly keyChanged: boolean,
    private readonly valueSerde: Serde<V> | undefined,
  ) {}

  aggregate<A>(initializer: () => A, aggregator: Aggregator<V, A>, options: StoreOptions<A>): KTable<string, A> {
    const name = this.graph.requireName('aggregate()', options.name);
    const spec = this.graph.storeSpec(options, { kind: 'keyValue' });
    this.graph.builder.addProcessor(name, aggregateProcessor(name, spec.caching, initializer, aggregator), [this.source(name)]);
    this.graph.builder.addStateStore(spec, name);
    return new KTable<string, A>(this.graph, name, name);
  }

  reduce(reducer: Reducer<V>, options: StoreOptions<V>): KTable<string, V> {
    return this.aggregate<V | undefined>(() => undefined, (_k, v, agg) => (agg === undefined ? v : reducer(agg, v)), options as StoreOptions<V | undefined>) as KTable<string, V>;
  }

  count(options: StoreOptions<number>): KTable<string, number> {
    return this.aggregate(() => 0, (_k, _v, n) => n + 1, options);
  }

  windowedBy(windows: TimeWindows): TimeWindowedKStream<V> {
    return new TimeWindowedKStream<V>(this.graph, windows, (name) => this.source(name));
  }

  private source(name: string): string {
    return this.keyChanged ? this.graph.addRepartition(name, this.parent, this.valueSerde) : this.parent;
  }
}

export class TimeWindowedKStream<V> {
  constructor(
    private readonly graph: DslGraph,
    private readonly windows: TimeWindows,
    private readonly source: (name: string) => string,
  ) {}

  aggregate<A>(initializer: () => A, aggregator: Aggregator<V, A>, options: WindowedStoreOptions<A, V>): KTable<Windowed<string>, A> {
    const name = this.graph.requireName('windowed aggregate()', options.name);
    const minimumRetentionMs = this.windows.sizeMs + this.windows.graceMs;
    const retentionMs = options.retentionMs ?? minimumRetentionMs;
    if (retentionMs < minimumRetentionMs) {
      throw new TopologyError('dsl-retention-too-short', `windowed aggregate "${name}": retention ${retentionMs} ms is shorter than window size + grace (${minimumRetentionMs} ms); windows would vanish while still open`);
    }
    if (!options.lateTopic) throw new TopologyError('dsl-late-topic-required', `windowed aggregate "${name}" needs a lateTopic: late records are never dropped silently`);
    const spec = this.graph.storeSpec(options, { kind: 'window', retentionMs, windowSizeMs: this.windows.sizeMs });
    const lateSink = `${name}-late`;
    this.graph.builder.addProcessor(name, windowedAggregateProcessor(name, spec.caching, this.windows, lateSink, initializer, aggregator), [this.source(name)]);
    this.graph.builder.addStateStore(spec, name);
    this.graph.builder.addSink(lateSink, options.lateTopic, [name], { keySerde: stringSerde, valueSerde: options.lateValueSerde ?? jsonSerde<V>() });
    return new KTable<Windowed<string>, A>(this.graph, name, name);
  }

  reduce(reducer: Reducer<V>, options: WindowedStoreOptions<V, V>): KTable<Windowed<string>, V> {
    return this.aggregate<V | undefined>(() => undefined, (_k, v, agg) => (agg === undefined ? v : reducer(agg, v)), options as WindowedStoreOptions<V | undefined, V>) as KTable<Windowed<string>, V>;
  }

  count(options: WindowedStoreOptions<number, V>): KTable<Windowed<string>, number> {
    return this.aggregate(() => 0, (_k, _v, n) => n + 1, options);
  }
}
