/**
 * The Processor API builder: sources, processors, sinks and stores, checked
 * when they are added and when the topology is built. Every mistake names the
 * node (or store, or topic) it is about.
 */
import { TopologyError, bufferSerde, type Serde } from '../schemas/index.js';
import type { StoreSpec } from '../state/index.js';
import type { ProcessorSupplier } from './processor.js';
import type { Headers } from './record.js';
import { Topology, type NodeDef, type SinkNodeDef, type SourceNodeDef } from './topology.js';

/** What a timestamp extractor sees: the deserialized record with its Kafka timestamp. */
export interface ConsumedRecord<K, V> {
  readonly key: K;
  readonly value: V;
  readonly timestampMs: number;
  readonly headers: Headers;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/**
 * Returns the record's event time, or null when the record has no usable time
 * (it is still processed, with its Kafka timestamp, but does not move stream time).
 */
export type TimestampExtractor<K, V> = (record: ConsumedRecord<K, V>) => number | null;

/**
 * Fetches what a record's value needs before it can be processed
 * synchronously (e.g. an Avro writer schema), given its raw bytes; undefined
 * when nothing is missing. The runtime calls it for every record of a batch
 * and awaits them all before processing the batch. It rejects only when the
 * fetch cannot be done now (a retriable error: the batch is retried).
 */
export type SourcePrepare = (value: Buffer | null) => Promise<void> | undefined;

export interface SourceOptions<K, V> {
  readonly keySerde?: Serde<K>;
  readonly valueSerde?: Serde<V>;
  readonly timestampExtractor?: TimestampExtractor<K, V>;
  /**
   * Where records that cannot be deserialized go (original bytes plus
   * `tally.error.*` headers). Without it a bad record fails the task loudly.
   */
  readonly deadLetterTopic?: string;
  /** See `SourcePrepare`. */
  readonly prepare?: SourcePrepare;
  /**
   * A table's source: whenever a task starts, its partition of these topics is
   * read up to the end offset of that moment before any other source of the
   * task is processed, so a stream joined to the table never sees it emptier
   * than it is (Kafka Streams bootstraps global tables this way).
   */
  readonly bootstrap?: boolean;
}

/** Chooses a partition for an output record; undefined means the default (murmur2 of the key bytes). */
export type SinkPartitioner<K, V> = (key: K, value: V, partitionCount: number) => number | undefined;

export interface SinkOptions<K, V> {
  readonly keySerde?: Serde<K>;
  readonly valueSerde?: Serde<V>;
  readonly partitioner?: SinkPartitioner<K, V>;
}

export interface InternalTopicOptions {
  /** Partition count; defaults to the largest partition count among the topology's external source topics. */
  readonly partitions?: number;
}

const namePattern = /^[A-Za-z0-9._-]+$/;

export class TopologyBuilder {
  private readonly nodes = new Map<string, NodeDef>();
  private readonly stores = new Map<string, StoreSpec>();
  private readonly internalTopics = new Map<string, InternalTopicOptions>();
  private readonly topicReaders = new Map<string, string>();

  /**
   * Declares a topic owned by this application (e.g. a repartition topic). Its
   * name is logical: the runtime prefixes it with the application id.
   */
  addInternalTopic(name: string, options: InternalTopicOptions = {}): this {
    checkName('internal topic', name);
    if (this.internalTopics.has(name)) throw new TopologyError('topology-duplicate-topic', `internal topic "${name}" is declared twice`);
    this.internalTopics.set(name, options);
    return this;
  }

  addSource<K = Buffer, V = Buffer>(name: string, topics: readonly string[], options: SourceOptions<K, V> = {}): this {
    this.checkNewNode(name);
    if (topics.length === 0) throw new TopologyError('topology-no-topics', `source "${name}" reads no topic: give it at least one`);
    for (const topic of topics) {
      const reader = this.topicReaders.get(topic);
      if (reader !== undefined) {
        throw new TopologyError('topology-topic-read-twice', `source "${name}" reads topic "${topic}", which source "${reader}" already reads`);
      }
      this.topicReaders.set(topic, name);
    }
    const node: SourceNodeDef = {
      kind: 'source',
      name,
      topics: [...topics],
      keySerde: (options.keySerde ?? bufferSerde) as Serde<unknown>,
      valueSerde: (options.valueSerde ?? bufferSerde) as Serde<unknown>,
      timestampExtractor: options.timestampExtractor as TimestampExtractor<unknown, unknown> | undefined,
      deadLetterTopic: options.deadLetterTopic,
      prepare: options.prepare,
      bootstrap: options.bootstrap === true,
    };
    this.nodes.set(name, node);
    return this;
  }

  addProcessor<KIn, VIn, KOut, VOut>(
    name: string,
    supplier: ProcessorSupplier<KIn, VIn, KOut, VOut>,
    parents: readonly string[],
    storeNames: readonly string[] = [],
  ): this {
    this.checkNewNode(name);
    this.checkParents(name, parents);
    this.nodes.set(name, { kind: 'processor', name, supplier: supplier as ProcessorSupplier, parents: [...parents], stores: [] });
    for (const store of storeNames) this.connectStore(name, store);
    return this;
  }

  addSink<K, V>(name: string, topic: string, parents: readonly string[], options: SinkOptions<K, V> = {}): this {
    this.checkNewNode(name);
    this.checkParents(name, parents);
    const node: SinkNodeDef = {
      kind: 'sink',
      name,
      topic,
      parents: [...parents],
      keySerde: (options.keySerde ?? bufferSerde) as Serde<unknown>,
      valueSerde: (options.valueSerde ?? bufferSerde) as Serde<unknown>,
      partitioner: options.partitioner as SinkPartitioner<unknown, unknown> | undefined,
    };
    this.nodes.set(name, node);
    return this;
  }

  /** Registers a store and connects it to the named processors. */
  addStateStore(spec: StoreSpec, ...processorNames: string[]): this {
    checkName('store', spec.name);
    if (this.stores.has(spec.name)) throw new TopologyError('topology-duplicate-store', `store "${spec.name}" is added twice: store names must be unique`);
    if (spec.kind === 'window' && !(spec.retentionMs !== undefined && spec.retentionMs > 0)) {
      throw new TopologyError('topology-store-retention', `window store "${spec.name}" needs a positive retentionMs`);
    }
    this.stores.set(spec.name, spec);
    for (const processor of processorNames) this.connectStore(processor, spec.name);
    return this;
  }

  connectStore(processorName: string, storeName: string): this {
    const node = this.nodes.get(processorName);
    if (node === undefined) throw new TopologyError('topology-unknown-node', `cannot connect store "${storeName}" to unknown processor "${processorName}"`);
    if (node.kind !== 'processor') throw new TopologyError('topology-store-on-non-processor', `store "${storeName}" can only be connected to a processor, and "${processorName}" is a ${node.kind}`);
    if (!node.stores.includes(storeName)) node.stores.push(storeName);
    return this;
  }

  /** Validates the whole graph and freezes it into a runnable topology. */
  build(): Topology {
    const sources = [...this.nodes.values()].filter((n) => n.kind === 'source');
    if (sources.length === 0) throw new TopologyError('topology-no-source', 'the topology has no source: add one with addSource() or builder.stream()');
    for (const node of this.nodes.values()) {
      if (node.kind !== 'processor') continue;
      for (const store of node.stores) {
        if (!this.stores.has(store)) {
          throw new TopologyError('topology-unknown-store', `processor "${node.name}" uses store "${store}", which was never added: add it with addStateStore()`);
        }
      }
    }
    for (const [topic, reader] of this.topicReaders) {
      if (this.internalTopics.has(topic) && ![...this.nodes.values()].some((n) => n.kind === 'sink' && n.topic === topic)) {
        throw new TopologyError('topology-internal-topic-unwritten', `source "${reader}" reads internal topic "${topic}", but no sink writes it`);
      }
    }
    return new Topology([...this.nodes.values()], new Map(this.stores), new Map(this.internalTopics));
  }

  private checkNewNode(name: string): void {
    checkName('node', name);
    if (this.nodes.has(name)) throw new TopologyError('topology-duplicate-node', `node "${name}" is added twice: node names must be unique`);
  }

  private checkParents(name: string, parents: readonly string[]): void {
    if (parents.length === 0) throw new TopologyError('topology-no-parent', `node "${name}" has no parent: it must read from a source or another processor`);
    for (const parent of parents) {
      const node = this.nodes.get(parent);
      if (node === undefined) throw new TopologyError('topology-unknown-parent', `node "${name}" names parent "${parent}", which does not exist (parents must be added first)`);
      if (node.kind === 'sink') throw new TopologyError('topology-sink-parent', `node "${name}" names sink "${parent}" as its parent: a sink has no children`);
    }
  }
}

function checkName(what: string, name: string): void {
  if (!namePattern.test(name)) {
    throw new TopologyError('topology-bad-name', `${what} name "${name}" is invalid: use letters, digits, ".", "_" and "-" (it becomes part of file and topic names)`);
  }
}
