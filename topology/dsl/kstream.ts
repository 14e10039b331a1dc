/**
 * A record stream. Operators add nodes to the topology as they are called;
 * an operator that changes the key marks the stream, so a later grouping or
 * join repartitions through an internal topic first.
 */
import type { Serde } from '../../schemas/index.js';
import type { ProcessorSupplier } from '../processor.js';
import type { SinkOptions } from '../topology-builder.js';
import type { DslGraph } from './dsl-graph.js';
import { KGroupedStream } from './kgrouped-stream.js';
import type { KTable } from './ktable.js';
import { streamTableJoinProcessor } from './stateful-processors.js';
import {
  filterProcessor,
  flatMapProcessor,
  mapProcessor,
  mapValuesProcessor,
  peekProcessor,
  selectKeyProcessor,
  type KeyValuePair,
} from './stateless-processors.js';

export interface Named {
  readonly name?: string;
}

export interface RepartitionOptions<V> {
  readonly name: string;
  readonly valueSerde?: Serde<V>;
  readonly partitions?: number;
}

export interface JoinOptions<V> {
  /** Needed when the stream must be repartitioned first (its key changed upstream). */
  readonly name?: string;
  readonly valueSerde?: Serde<V>;
}

export class KStream<K, V> {
  constructor(
    private readonly graph: DslGraph,
    /** The node whose output this stream is. */
    readonly nodeName: string,
    private readonly keyChanged: boolean,
  ) {}

  filter(predicate: (key: K, value: V) => boolean, options: Named = {}): KStream<K, V> {
    return this.then('FILTER', options, filterProcessor(predicate), this.keyChanged);
  }

  filterNot(predicate: (key: K, value: V) => boolean, options: Named = {}): KStream<K, V> {
    return this.then('FILTER', options, filterProcessor<K, V>((k, v) => !predicate(k, v)), this.keyChanged);
  }

  map<K2, V2>(mapper: (key: K, value: V) => KeyValuePair<K2, V2>, options: Named = {}): KStream<K2, V2> {
    return this.then('MAP', options, mapProcessor(mapper), true);
  }

  mapValues<V2>(mapper: (value: V, key: K) => V2, options: Named = {}): KStream<K, V2> {
    return this.then('MAPVALUES', options, mapValuesProcessor(mapper), this.keyChanged);
  }

  selectKey<K2>(selector: (key: K, value: V) => K2, options: Named = {}): KStream<K2, V> {
    return this.then('KEY-SELECT', options, selectKeyProcessor(selector), true);
  }

  flatMap<K2, V2>(mapper: (key: K, value: V) => Iterable<KeyValuePair<K2, V2>>, options: Named = {}): KStream<K2, V2> {
    return this.then('FLATMAP', options, flatMapProcessor(mapper), true);
  }

  peek(action: (key: K, value: V) => void, options: Named = {}): KStream<K, V> {
    return this.then('PEEK', options, peekProcessor(action), this.keyChanged);
  }

  /** A custom processor (Processor API) with the named stores connected; treated as key-changing. */
  process<KOut, VOut>(supplier: ProcessorSupplier<K, V, KOut, VOut>, options: { name: string; stores?: readonly string[] }): KStream<KOut, VOut> {
    const name = this.graph.requireName('process()', options.name);
    this.graph.builder.addProcessor(name, supplier, [this.nodeName], options.stores ?? []);
    return new KStream<KOut, VOut>(this.graph, name, true);
  }

  /** Writes through the internal topic `<name>-repartition`, partitioned by key. */
  repartition(this: KStream<string, V>, options: RepartitionOptions<V>): KStream<string, V> {
    const name = this.graph.requireName('repartition()', options.name);
    return new KStream<string, V>(this.graph, this.graph.addRepartition(name, this.nodeName, options.valueSerde, options.partitions), false);
  }

  groupByKey(this: KStream<string, V>, options: { valueSerde?: Serde<V> } = {}): KGroupedStream<V> {
    return new KGroupedStream<V>(this.graph, this.nodeName, this.keyChanged, options.valueSerde);
  }

  /** Inner join with a table on the key: records with no table row are not forwarded. */
  join<T, R>(this: KStream<string, V>, table: KTable<string, T>, joiner: (value: V, tableValue: T, key: string) => R, options: JoinOptions<V> = {}): KStream<string, R> {
    return this.joinTable(table, false, joiner as (value: V, tableValue: T | undefined, key: string) => R, options);
  }

  /** Left join with a table: records with no table row are forwarded with `undefined` as the table value. */
  leftJoin<T, R>(this: KStream<string, V>, table: KTable<string, T>, joiner: (value: V, tableValue: T | undefined, key: string) => R, options: JoinOptions<V> = {}): KStream<string, R> {
    return this.joinTable(table, true, joiner, options);
  }

  to(topic: string, options: SinkOptions<K, V> & Named = {}): void {
    this.graph.builder.addSink(this.graph.nameFor('SINK', options.name), topic, [this.nodeName], options);
  }

  private joinTable<T, R>(
    this: KStream<string, V>,
    table: KTable<string, T>,
    left: boolean,
    joiner: (value: V, tableValue: T | undefined, key: string) => R,
    options: JoinOptions<V>,
  ): KStream<string, R> {
    const parent = this.keyChanged
      ? this.graph.addRepartition(this.graph.requireName('join() after a key change', options.name), this.nodeName, options.valueSerde)
      : this.nodeName;
    const name = this.graph.nameFor(left ? 'LEFTJOIN' : 'JOIN', options.name);
    this.graph.builder.addProcessor(name, streamTableJoinProcessor<V, T, R>(table.storeName, left, joiner), [parent], [table.storeName]);
    return new KStream<string, R>(this.graph, name, false);
  }

  private then<K2, V2>(kind: string, options: Named, supplier: ProcessorSupplier<K, V, K2, V2>, keyChanged: boolean): KStream<K2, V2> {
    const name = this.graph.nameFor(kind, options.name);
    this.graph.builder.addProcessor(name, supplier, [this.nodeName]);
    return new KStream<K2, V2>(this.graph, name, keyChanged);
  }
}
