/**
 * A changelog stream seen as a table, materialized in a named key-value or
 * window store. Downstream nodes receive `Change` values (new and old).
 */
import type { DslGraph } from './dsl-graph.js';
import { KStream, type Named } from './kstream.js';
import { toStreamProcessor } from './stateless-processors.js';

export class KTable<K, V> {
  constructor(
    private readonly graph: DslGraph,
    /** The node that emits this table's changes. */
    readonly nodeName: string,
    /** The store that holds the table; queryable, and joinable when key-value. */
    readonly storeName: string,
  ) {}

  /** The table's updates as a stream; deletions become null values. */
  toStream(options: Named = {}): KStream<K, V | null> {
    const name = this.graph.nameFor('TOSTREAM', options.name);
    this.graph.builder.addProcessor(name, toStreamProcessor<K, V>(), [this.nodeName]);
    return new KStream<K, V | null>(this.graph, name, false);
  }
}
