/**
 * One node of a sub-topology inside a task: a source, a processor with its
 * context, or a sink that serializes and hands records to the collector.
 */
import { TallyError, TopologyError } from '../../schemas/index.js';
import type { KeyValueStore, WindowStore } from '../../state/index.js';
import type { Cancellable, Processor, ProcessorContext, PunctuationType, Punctuator } from '../processor.js';
import type { StreamRecord } from '../record.js';
import type { NodeDef, SinkNodeDef } from '../topology.js';
import type { OutputRecord, TaskStore } from './stream-task.js';
import type { PunctuationQueue } from './punctuation-queue.js';

/** What a node needs from its task. */
export interface TaskServices {
  readonly id: string;
  readonly applicationId: string;
  readonly partition: number;
  readonly streamTimeMs: number;
  readonly wallClockMs: number;
  readonly streamTimePunctuations: PunctuationQueue;
  readonly wallClockPunctuations: PunctuationQueue;
  send(record: OutputRecord): void;
  /** See ProcessorContext.mayContinue. */
  mayContinue(): boolean;
  resolveTopic(logicalTopic: string): string;
  partitionCount(physicalTopic: string): number;
  getStore(nodeName: string, storeName: string): TaskStore;
}

/** The innermost node each failure was thrown in (set once, as the error passes its first node). */
const failingNodes = new WeakMap<object, string>();

/** The name of the node a processing failure was thrown in, when known. */
export function failingNodeOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? failingNodes.get(error) : undefined;
}

export class RuntimeNode implements ProcessorContext {
  readonly def: NodeDef;
  readonly children: RuntimeNode[] = [];
  private readonly task: TaskServices;
  private processor: Processor | undefined;
  #childNames: readonly string[] | undefined;
  #childrenByName: Map<string, RuntimeNode> | undefined;

  constructor(def: NodeDef, task: TaskServices) {
    this.def = def;
    this.task = task;
  }

  get name(): string {
    return this.def.name;
  }

  async init(): Promise<void> {
    if (this.def.kind !== 'processor') return;
    this.processor = this.def.supplier();
    await this.processor.init?.(this);
  }

  async close(): Promise<void> {
    await this.processor?.close?.();
  }

  /** Entry point for a record: runs the processor (or sink) and wraps failures with coordinates. */
  process(record: StreamRecord<unknown, unknown>): void {
    try {
      if (this.def.kind === 'sink') {
        this.sendToSink(this.def, record);
        return;
      }
      const result: unknown = this.processor?.process(record);
      if (isThenable(result)) {
        throw new TopologyError('processor-not-synchronous', `processor "${this.name}" returned a promise from process(); process() must be synchronous — fetch what it needs in init(), a source's prepare, or a wall-clock punctuator`);
      }
    } catch (error) {
      if (typeof error === 'object' && error !== null && !failingNodes.has(error)) failingNodes.set(error, this.name);
      if (error instanceof TallyError) throw error;
      const wrapped = new TallyError('processing-failed', `processor "${this.name}" failed on record ${record.topic}-${record.partition}@${record.offset}: ${(error as Error)?.message ?? String(error)}`, {
        cause: error,
        coordinates: { topic: record.topic, partition: record.partition, offset: String(record.offset), node: failingNodeOf(error) ?? this.name },
      });
      failingNodes.set(wrapped, failingNodeOf(error) ?? this.name);
      throw wrapped;
    }
  }

  /** A source node has no processor: it hands the record to its children. */
  forwardFromSource(record: StreamRecord<unknown, unknown>): void {
    this.forward(record);
  }

  // --- ProcessorContext ---

  get applicationId(): string {
    return this.task.applicationId;
  }

  get taskId(): string {
    return this.task.id;
  }

  get partition(): number {
    return this.task.partition;
  }

  get nodeName(): string {
    return this.def.name;
  }

  get childNames(): readonly string[] {
    return (this.#childNames ??= this.children.map((c) => c.name));
  }

  get streamTimeMs(): number {
    return this.task.streamTimeMs;
  }

  get wallClockMs(): number {
    return this.task.wallClockMs;
  }

  forward(record: StreamRecord<unknown, unknown>, childName?: string): void {
    if (childName === undefined) {
      const children = this.children;
      for (let index = 0; index < children.length; index++) (children[index] as RuntimeNode).process(record);
      return;
    }
    this.#childrenByName ??= new Map(this.children.map((c) => [c.name, c]));
    const child = this.#childrenByName.get(childName);
    if (child === undefined) {
      throw new TopologyError('forward-unknown-child', `processor "${this.name}" forwarded to "${childName}", which is not one of its children (${this.children.map((c) => c.name).join(', ') || 'none'})`);
    }
    child.process(record);
  }

  getKeyValueStore<V>(name: string): KeyValueStore<V> {
    const store = this.task.getStore(this.name, name);
    if (store.kind !== 'keyValue') throw new TopologyError('store-kind-mismatch', `processor "${this.name}" asked for key-value store "${name}", which is a ${store.kind} store`);
    return store as unknown as KeyValueStore<V>;
  }

  getWindowStore<V>(name: string): WindowStore<V> {
    const store = this.task.getStore(this.name, name);
    if (store.kind !== 'window') throw new TopologyError('store-kind-mismatch', `processor "${this.name}" asked for window store "${name}", which is a ${store.kind} store`);
    return store as unknown as WindowStore<V>;
  }

  schedule(intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable {
    if (type === 'stream-time') {
      const name = this.name;
      const synchronous: Punctuator = (timestampMs) => {
        const result: unknown = punctuator(timestampMs);
        if (isThenable(result)) throw new TopologyError('punctuator-not-synchronous', `a stream-time punctuator of processor "${name}" returned a promise; stream-time punctuators run on the per-record path and must be synchronous (a wall-clock punctuator may be async)`);
      };
      return this.task.streamTimePunctuations.schedule(intervalMs, Math.max(this.task.streamTimeMs, -1), synchronous);
    }
    return this.task.wallClockPunctuations.schedule(intervalMs, this.task.wallClockMs, punctuator);
  }

  mayContinue(): boolean {
    return this.task.mayContinue();
  }

  private sendToSink(sink: SinkNodeDef, record: StreamRecord<unknown, unknown>): void {
    const topic = this.task.resolveTopic(sink.topic);
    const key = record.key === null || record.key === undefined ? null : sink.keySerde.serialize(record.key);
    const value = record.value === null || record.value === undefined ? null : sink.valueSerde.serialize(record.value);
    const partition = sink.partitioner?.(record.key, record.value, this.task.partitionCount(topic));
    this.task.send({ topic, key, value, timestampMs: record.timestampMs, headers: record.headers, partition });
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
