/**
 * Shared state of one StreamsBuilder: the Processor API builder the DSL
 * compiles onto, and the counter that names stateless nodes. Stateful nodes
 * are never auto-named: their stores and topics derive from their names.
 */
import { TopologyError, jsonSerde, stringSerde, type Serde } from '../../schemas/index.js';
import type { StoreSpec } from '../../state/index.js';
import { TopologyBuilder } from '../topology-builder.js';

export interface StoreOptions<V> {
  /** Node name; the store and its changelog topic are named after it. */
  readonly name: string;
  readonly valueSerde?: Serde<V>;
  /** LevelDB when true (default), memory when false. */
  readonly persistent?: boolean;
  /** Write-back cache flushed on commit (default true): updates go downstream coalesced. */
  readonly caching?: boolean;
  /** Changelog topic for the store (default true). */
  readonly logging?: boolean;
}

export class DslGraph {
  readonly builder = new TopologyBuilder();
  private counter = 0;

  /** `KSTREAM-FILTER-0000000003`, or the given name. */
  nameFor(kind: string, given: string | undefined): string {
    const index = this.counter++;
    return given ?? `KSTREAM-${kind}-${String(index).padStart(10, '0')}`;
  }

  requireName(operation: string, name: string | undefined): string {
    if (name === undefined || name === '') {
      throw new TopologyError('dsl-name-required', `${operation} is stateful and needs an explicit { name }: its store and topics are named after it, so they never move when the topology changes`);
    }
    return name;
  }

  storeSpec<V>(options: StoreOptions<V>, extra: Partial<StoreSpec<V>> & Pick<StoreSpec<V>, 'kind'>): StoreSpec<V> {
    return {
      name: options.name,
      persistent: options.persistent ?? true,
      caching: options.caching ?? true,
      logging: options.logging ?? true,
      valueSerde: options.valueSerde ?? jsonSerde<V>(),
      ...extra,
    };
  }

  /**
   * Adds `<name>-repartition`: a sink keyed by the string key (so the default
   * murmur2 partitioner co-partitions it with other string-keyed topics) and
   * a source reading it back. Returns the source node's name.
   */
  addRepartition<V>(name: string, parent: string, valueSerde: Serde<V> = jsonSerde<V>(), partitions?: number): string {
    const topic = `${name}-repartition`;
    this.builder.addInternalTopic(topic, partitions === undefined ? {} : { partitions });
    this.builder.addSink(`${topic}-sink`, topic, [parent], { keySerde: stringSerde, valueSerde });
    this.builder.addSource(`${topic}-source`, [topic], { keySerde: stringSerde, valueSerde });
    return `${topic}-source`;
  }
}
