/**
 * A built, validated topology: nodes grouped into sub-topologies. Two nodes are
 * in the same sub-topology when an edge or a shared store connects them; topics
 * (repartition topics included) are the only links between sub-topologies. The
 * runtime runs one task per (sub-topology, partition).
 */
import { TopologyError, type Serde } from '../schemas/index.js';
import type { StoreSpec } from '../state/index.js';
import type { ProcessorSupplier } from './processor.js';
import type { InternalTopicOptions, SinkPartitioner, SourcePrepare, TimestampExtractor } from './topology-builder.js';

export interface SourceNodeDef {
  readonly kind: 'source';
  readonly name: string;
  readonly topics: readonly string[];
  readonly keySerde: Serde<unknown>;
  readonly valueSerde: Serde<unknown>;
  readonly timestampExtractor: TimestampExtractor<unknown, unknown> | undefined;
  readonly deadLetterTopic: string | undefined;
  readonly prepare: SourcePrepare | undefined;
  /** Read to its end offset at task start before the task's other sources (see SourceOptions). */
  readonly bootstrap: boolean;
}

export interface ProcessorNodeDef {
  readonly kind: 'processor';
  readonly name: string;
  readonly supplier: ProcessorSupplier;
  readonly parents: readonly string[];
  readonly stores: string[];
}

export interface SinkNodeDef {
  readonly kind: 'sink';
  readonly name: string;
  readonly topic: string;
  readonly parents: readonly string[];
  readonly keySerde: Serde<unknown>;
  readonly valueSerde: Serde<unknown>;
  readonly partitioner: SinkPartitioner<unknown, unknown> | undefined;
}

export type NodeDef = SourceNodeDef | ProcessorNodeDef | SinkNodeDef;

export interface Subtopology {
  readonly id: number;
  /** Nodes in the order they were added (parents before children). */
  readonly nodes: readonly NodeDef[];
  /** Logical topic names this sub-topology reads. */
  readonly sourceTopics: readonly string[];
  readonly stores: readonly StoreSpec[];
}

export class Topology {
  readonly subtopologies: readonly Subtopology[];
  readonly stores: ReadonlyMap<string, StoreSpec>;
  readonly internalTopics: ReadonlyMap<string, InternalTopicOptions>;
  private readonly children = new Map<string, string[]>();

  constructor(nodes: readonly NodeDef[], stores: ReadonlyMap<string, StoreSpec>, internalTopics: ReadonlyMap<string, InternalTopicOptions>) {
    this.stores = stores;
    this.internalTopics = internalTopics;
    for (const node of nodes) {
      this.children.set(node.name, []);
      if (node.kind !== 'source') for (const parent of node.parents) this.children.get(parent)?.push(node.name);
    }
    this.subtopologies = groupIntoSubtopologies(nodes, stores);
  }

  /** Children of a node, in the order they were added. */
  childrenOf(name: string): readonly string[] {
    return this.children.get(name) ?? [];
  }

  isInternalTopic(topic: string): boolean {
    return this.internalTopics.has(topic);
  }

  /** True when `topic` (logical name) is read by a bootstrapped (table) source. */
  isBootstrapTopic(topic: string): boolean {
    for (const sub of this.subtopologies) {
      for (const node of sub.nodes) if (node.kind === 'source' && node.bootstrap && node.topics.includes(topic)) return true;
    }
    return false;
  }

  /** Every topic a sink writes, logical names. */
  get sinkTopics(): string[] {
    const topics = new Set<string>();
    for (const sub of this.subtopologies) for (const node of sub.nodes) if (node.kind === 'sink') topics.add(node.topic);
    return [...topics];
  }

  /** Every topic a source sends the records it cannot process to, logical names. */
  get deadLetterTopics(): string[] {
    const topics = new Set<string>();
    for (const sub of this.subtopologies) for (const node of sub.nodes) if (node.kind === 'source' && node.deadLetterTopic !== undefined) topics.add(node.deadLetterTopic);
    return [...topics];
  }

  /** Every topic a source reads, logical names. */
  get sourceTopics(): string[] {
    return this.subtopologies.flatMap((s) => s.sourceTopics);
  }

  /** A readable description, like Kafka Streams' `Topology#describe()`. */
  describe(): string {
    const lines: string[] = [];
    for (const sub of this.subtopologies) {
      lines.push(`Sub-topology: ${sub.id}`);
      for (const node of sub.nodes) {
        const next = this.childrenOf(node.name);
        const tail = next.length > 0 ? ` --> ${next.join(', ')}` : '';
        if (node.kind === 'source') lines.push(`  Source: ${node.name} (topics: [${node.topics.join(', ')}])${tail}`);
        else if (node.kind === 'sink') lines.push(`  Sink: ${node.name} (topic: ${node.topic}) <-- ${node.parents.join(', ')}`);
        else lines.push(`  Processor: ${node.name} (stores: [${node.stores.join(', ')}])${tail} <-- ${node.parents.join(', ')}`);
      }
    }
    return lines.join('\n');
  }
}

function groupIntoSubtopologies(nodes: readonly NodeDef[], stores: ReadonlyMap<string, StoreSpec>): Subtopology[] {
  const parent = new Map<string, string>();
  const find = (name: string): string => {
    let root = name;
    while (parent.get(root) !== root) root = parent.get(root) ?? root;
    parent.set(name, root);
    return root;
  };
  const union = (a: string, b: string): void => {
    parent.set(find(a), find(b));
  };
  for (const node of nodes) parent.set(node.name, node.name);
  const storeOwner = new Map<string, string>();
  for (const node of nodes) {
    if (node.kind !== 'source') for (const p of node.parents) union(node.name, p);
    if (node.kind !== 'processor') continue;
    for (const store of node.stores) {
      const owner = storeOwner.get(store);
      if (owner === undefined) storeOwner.set(store, node.name);
      else union(node.name, owner);
    }
  }
  const groups = new Map<string, NodeDef[]>();
  for (const node of nodes) {
    const root = find(node.name);
    const group = groups.get(root) ?? [];
    group.push(node);
    groups.set(root, group);
  }
  let id = 0;
  const result: Subtopology[] = [];
  for (const group of groups.values()) {
    const sourceTopics = group.flatMap((n) => (n.kind === 'source' ? n.topics : []));
    if (sourceTopics.length === 0) {
      throw new TopologyError('topology-unreachable', `node "${group[0]?.name}" is not reachable from any source: connect it to a source or remove it`);
    }
    const storeNames = new Set(group.flatMap((n) => (n.kind === 'processor' ? n.stores : [])));
    result.push({ id: id++, nodes: group, sourceTopics, stores: [...storeNames].map((s) => stores.get(s) as StoreSpec) });
  }
  return result;
}
