/**
 * The DSL's entry point: streams and tables from topics, compiled onto the
 * Processor API as operators are called; `build()` validates and freezes.
 */
import { jsonSerde, stringSerde, type Serde } from '../../schemas/index.js';
import type { StoreSpec } from '../../state/index.js';
import type { Topology } from '../topology.js';
import type { SourceOptions, TimestampExtractor } from '../topology-builder.js';
import { DslGraph, type StoreOptions } from './dsl-graph.js';
import { KStream, type Named } from './kstream.js';
import { KTable } from './ktable.js';
import { tableSourceProcessor } from './stateful-processors.js';

export interface TableOptions<V> extends StoreOptions<V> {
  /** Deserializer for the topic's values (default JSON); also the store's serde unless `valueSerde` is set. */
  readonly topicValueSerde?: Serde<V>;
  /**
   * Event time for table records. Default: none (`() => null`), so table
   * updates never move the task's stream time and cannot close windows.
   */
  readonly timestampExtractor?: TimestampExtractor<string, V | null>;
}

export class StreamsBuilder {
  private readonly graph = new DslGraph();

  stream<K = string, V = string>(topics: string | readonly string[], options: SourceOptions<K, V> & Named = {}): KStream<K, V> {
    const name = this.graph.nameFor('SOURCE', options.name);
    const list = typeof topics === 'string' ? [topics] : topics;
    this.graph.builder.addSource<K, V>(name, list, {
      keySerde: options.keySerde ?? (stringSerde as unknown as Serde<K>),
      valueSerde: options.valueSerde ?? (stringSerde as unknown as Serde<V>),
      ...(options.timestampExtractor === undefined ? {} : { timestampExtractor: options.timestampExtractor }),
      ...(options.deadLetterTopic === undefined ? {} : { deadLetterTopic: options.deadLetterTopic }),
    });
    return new KStream<K, V>(this.graph, name, false);
  }

  /** A topic (string keys) materialized in the key-value store `name`. */
  table<V>(topic: string, options: TableOptions<V>): KTable<string, V> {
    const name = this.graph.requireName('table()', options.name);
    const topicSerde = options.topicValueSerde ?? options.valueSerde ?? jsonSerde<V>();
    this.graph.builder.addSource<string, V | null>(`${name}-source`, [topic], {
      keySerde: stringSerde,
      valueSerde: topicSerde,
      timestampExtractor: options.timestampExtractor ?? (() => null),
      bootstrap: true,
    });
    const spec = this.graph.storeSpec({ ...options, valueSerde: options.valueSerde ?? topicSerde }, { kind: 'keyValue' });
    this.graph.builder.addProcessor(name, tableSourceProcessor<V>(name, spec.caching), [`${name}-source`]);
    this.graph.builder.addStateStore(spec, name);
    return new KTable<string, V>(this.graph, name, name);
  }

  /** Adds a store for custom processors (`KStream#process`); connect it by naming it there. */
  addStateStore(spec: StoreSpec): this {
    this.graph.builder.addStateStore(spec);
    return this;
  }

  build(): Topology {
    return this.graph.builder.build();
  }
}
