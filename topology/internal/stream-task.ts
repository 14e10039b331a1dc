/**
 * A stream task runs one sub-topology for one partition: it owns that
 * partition's processors, stores, stream time and punctuation schedules.
 * The test driver and the Kafka runner both drive tasks through this class.
 */
import { TallyError, TopologyError } from '../../schemas/index.js';
import type { KeyValueStore, StateStore, WindowStore } from '../../state/index.js';
import type { Headers } from '../record.js';
import { StreamRecord } from '../record.js';
import { TaskId } from '../task-id.js';
import type { Subtopology, Topology, SourceNodeDef } from '../topology.js';
import { RuntimeNode, failingNodeOf, type TaskServices } from './runtime-node.js';
import { PunctuationQueue } from './punctuation-queue.js';
import { deadLetterOf, errorHeaders, failureMessage, isRecordFailure, noteProcessingFailure } from './dead-letters.js';

export { errorHeaders };

/** A record as it sits on a topic partition: bytes plus metadata. */
export interface RawRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestampMs: number;
  readonly headers: Headers;
  readonly partition: number;
  readonly offset: number;
}

/** A record leaving the task for a topic (physical name). `partition` undefined: choose by key. */
export interface OutputRecord {
  readonly topic: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestampMs: number;
  readonly headers: Headers;
  readonly partition: number | undefined;
}

export interface RecordCollector {
  send(record: OutputRecord): void;
  /** True while the output has room (see ProcessorContext.mayContinue); absent: always. */
  hasRoom?(): boolean;
}

export type TaskStore = (KeyValueStore<unknown> | WindowStore<unknown>) & StateStore;

export interface StreamTaskOptions {
  readonly applicationId: string;
  readonly topology: Topology;
  readonly subtopology: Subtopology;
  readonly partition: number;
  /** The task's stores, built by the caller (persistence and changelog are its business). */
  readonly stores: ReadonlyMap<string, TaskStore>;
  readonly collector: RecordCollector;
  /** Logical topic name → physical name (internal topics get the application prefix). */
  readonly resolveTopic: (logicalTopic: string) => string;
  readonly partitionCount: (physicalTopic: string) => number;
  readonly wallClockMs: () => number;
  /**
   * Event-loop time (ms) one firing of a wall-clock punctuator may hold
   * before `mayContinue` tells it to stop (ProcessorContext.mayContinue);
   * absent: no limit.
   */
  readonly punctuationSliceMs?: number;
  /** Stream time recovered from the last commit; -1 when unknown. */
  readonly initialStreamTimeMs?: number;
  /**
   * Told once per record that failed processing and went to its dead-letter
   * topic (`message` says which record, where and why). Default: counted per
   * application in this process (processingFailureCount) and logged with console.warn.
   */
  readonly onProcessingFailure?: (message: string) => void;
}

export class StreamTask implements TaskServices {
  /** The task id's string form, e.g. `1_3`: what `ProcessorContext.taskId` shows. */
  readonly id: string;
  readonly applicationId: string;
  readonly partition: number;
  readonly subtopology: Subtopology;
  readonly stores: ReadonlyMap<string, TaskStore>;
  readonly streamTimePunctuations = new PunctuationQueue();
  readonly wallClockPunctuations = new PunctuationQueue();
  private streamTime: number;
  private readonly options: StreamTaskOptions;
  private readonly nodes = new Map<string, RuntimeNode>();
  private readonly sourcesByTopic = new Map<string, RuntimeNode>();
  /** The wall-clock punctuator firing now: when its slice ends (performance.now()), whether it asked yet, and whether its slice stopped it. */
  #firing: { endsMs: number; asked: boolean; stoppedBySlice: boolean } | undefined;

  constructor(options: StreamTaskOptions) {
    this.options = options;
    this.applicationId = options.applicationId;
    this.partition = options.partition;
    this.subtopology = options.subtopology;
    this.stores = options.stores;
    this.id = new TaskId(options.subtopology.id, options.partition).key;
    this.streamTime = options.initialStreamTimeMs ?? -1;
    for (const def of options.subtopology.nodes) {
      const node = new RuntimeNode(def, this);
      this.nodes.set(def.name, node);
      if (def.kind === 'source') for (const topic of def.topics) this.sourcesByTopic.set(topic, node);
    }
    for (const node of this.nodes.values()) {
      for (const child of options.topology.childrenOf(node.name)) {
        const childNode = this.nodes.get(child);
        if (childNode !== undefined) node.children.push(childNode);
      }
    }
  }

  get streamTimeMs(): number {
    return this.streamTime;
  }

  get wallClockMs(): number {
    return this.options.wallClockMs();
  }

  /** Opens stores (in topology order) and initializes processors. */
  async init(): Promise<void> {
    await this.openStores();
    await this.initProcessors();
  }

  /** Step 1 of start-up: open stores, so they can be restored before any processor sees them. */
  async openStores(): Promise<void> {
    for (const store of this.stores.values()) await store.open();
  }

  /** Step 2 of start-up, after restoration: create and initialize processors. */
  async initProcessors(): Promise<void> {
    for (const node of this.nodes.values()) await node.init();
  }

  /** Sets stream time recovered from a commit; it only ever moves forward. */
  recoverStreamTime(streamTimeMs: number): void {
    if (streamTimeMs > this.streamTime) this.streamTime = streamTimeMs;
  }

  /** True when the source of `logicalTopic` has a `prepare` step (see `prepare`). */
  hasPrepare(logicalTopic: string): boolean {
    return this.sourceFor(logicalTopic).prepare !== undefined;
  }

  /**
   * Fetches what the records of a batch need before they can be processed
   * (the source's `prepare`, e.g. Avro writer schemas), all at once.
   * Undefined when nothing is missing: the common case has no promise.
   */
  prepare(logicalTopic: string, values: readonly (Buffer | null)[]): Promise<void> | undefined {
    const prepare = this.sourceFor(logicalTopic).prepare;
    if (prepare === undefined) return undefined;
    let pending: Promise<void>[] | undefined;
    for (const value of values) {
      const promise = prepare(value);
      if (promise !== undefined) (pending ??= []).push(promise);
    }
    return pending === undefined ? undefined : Promise.all(pending).then(() => undefined);
  }

  /**
   * Processes one record from a logical source topic, then fires due
   * stream-time punctuators. Synchronous. When processing the record throws
   * a failure of the record itself (see dead-letters.ts) and the source has a
   * deadLetterTopic, the record goes there with reason `processing-failed`
   * and the task carries on; anything else is thrown.
   */
  process(logicalTopic: string, raw: RawRecord): void {
    const def = this.sourceFor(logicalTopic);
    try {
      const record = this.deserialize(def, logicalTopic, raw);
      if (record === undefined) return;
      (this.sourcesByTopic.get(logicalTopic) as RuntimeNode).forwardFromSource(record);
    } catch (error) {
      if (def.deadLetterTopic === undefined || !isRecordFailure(error)) throw error;
      this.deadLetterFailedRecord(def.deadLetterTopic, logicalTopic, raw, error);
    }
    if (this.streamTime >= 0) this.streamTimePunctuations.fireDueSync(this.streamTime);
  }

  /** True when a store's cache holds more unflushed writes than its capacity: commit soon. */
  get needsCommit(): boolean {
    for (const store of this.stores.values()) if (store.needsFlush) return true;
    return false;
  }

  private sourceFor(logicalTopic: string): SourceNodeDef {
    const def = this.sourcesByTopic.get(logicalTopic)?.def;
    if (def === undefined || def.kind !== 'source') {
      throw new TopologyError('task-unknown-topic', `task ${this.id} has no source for topic "${logicalTopic}"`);
    }
    return def;
  }

  /**
   * Fires the wall-clock punctuators due at `nowMs`, and those the last call
   * left unfinished. Each firing has its own slice (`punctuationSliceMs`).
   * True when a punctuator was told to stop by its slice: call again at the
   * next turn to let it go on.
   */
  async punctuateWallClock(nowMs: number): Promise<boolean> {
    const sliceMs = this.options.punctuationSliceMs ?? Number.POSITIVE_INFINITY;
    return this.wallClockPunctuations.fireDue(nowMs, async (punctuator) => {
      const firing = { endsMs: performance.now() + sliceMs, asked: false, stoppedBySlice: false };
      this.#firing = firing;
      try {
        await punctuator(nowMs);
      } finally {
        this.#firing = undefined;
      }
      return firing.stoppedBySlice;
    });
  }

  /**
   * Commit step 1: flush every store's cache in topology order, so records a
   * flush forwards reach downstream stores before those are flushed.
   */
  async flush(meta?: ReadonlyMap<string, Buffer>): Promise<void> {
    // Each store's flush forwards synchronously when called; their LevelDB batches are then written side by side.
    const writes: Promise<void>[] = [];
    for (const store of this.stores.values()) writes.push(store.flush(meta));
    const failed = (await Promise.allSettled(writes)).find((outcome) => outcome.status === 'rejected');
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  }

  /** Closes processors and stores. A dirty close drops uncommitted cache contents first. */
  async close(clean: boolean): Promise<void> {
    for (const node of this.nodes.values()) await node.close();
    for (const store of this.stores.values()) {
      if (!clean) store.discardCache();
      await store.close();
    }
  }

  /** See ProcessorContext.mayContinue. A firing's first question is answered for the output alone: every firing gets a step done. */
  mayContinue(): boolean {
    if (!(this.options.collector.hasRoom?.() ?? true)) return false;
    const firing = this.#firing;
    if (firing === undefined) return true;
    const first = !firing.asked;
    firing.asked = true;
    if (first || performance.now() < firing.endsMs) return true;
    firing.stoppedBySlice = true;
    return false;
  }

  send(record: OutputRecord): void {
    this.options.collector.send(record);
  }

  resolveTopic(logicalTopic: string): string {
    return this.options.resolveTopic(logicalTopic);
  }

  partitionCount(physicalTopic: string): number {
    return this.options.partitionCount(physicalTopic);
  }

  getStore(nodeName: string, storeName: string): TaskStore {
    const def = this.nodes.get(nodeName)?.def;
    const store = this.stores.get(storeName);
    if (def?.kind !== 'processor' || !def.stores.includes(storeName) || store === undefined) {
      throw new TopologyError('task-store-not-connected', `processor "${nodeName}" asked for store "${storeName}", which is not connected to it: connect it in the topology`);
    }
    return store;
  }

  /**
   * The backstop: what the record's processing did before it threw stays (as
   * with Kafka Streams' CONTINUE), the record itself goes to the dead-letter
   * topic, counted and logged once.
   */
  private deadLetterFailedRecord(deadLetterTopic: string, logicalTopic: string, raw: RawRecord, error: unknown): void {
    const topic = this.resolveTopic(logicalTopic);
    const node = failingNodeOf(error);
    const where = `${topic}-${raw.partition}@${raw.offset}${node === undefined ? '' : ` in node "${node}"`}`;
    const message = `processing ${where} failed: ${failureMessage(error)}`;
    const { value, headers } = deadLetterOf({ ...raw, message, topic, node });
    this.send({ topic: this.resolveTopic(deadLetterTopic), key: raw.key, value, timestampMs: raw.timestampMs, partition: undefined, headers });
    const report = `task ${this.id}: ${message}; the record went to ${deadLetterTopic} (reason processing-failed) and processing carries on`;
    if (this.options.onProcessingFailure === undefined) noteProcessingFailure(this.applicationId, report);
    else this.options.onProcessingFailure(report);
  }

  private deserialize(source: SourceNodeDef, topic: string, raw: RawRecord): StreamRecord<unknown, unknown> | undefined {
    let key: unknown;
    let value: unknown;
    try {
      key = raw.key === null ? null : source.keySerde.deserialize(raw.key);
      value = raw.value === null ? null : source.valueSerde.deserialize(raw.value);
    } catch (error) {
      const message = `cannot deserialize record ${topic}-${raw.partition}@${raw.offset} in source "${source.name}": ${(error as Error).message}`;
      if (source.deadLetterTopic === undefined) {
        throw new TallyError('deserialization-failed', `${message}; give the source a deadLetterTopic to route such records instead of failing`, {
          cause: error,
          coordinates: { topic, partition: raw.partition, offset: String(raw.offset), node: source.name },
        });
      }
      this.send({
        topic: this.resolveTopic(source.deadLetterTopic),
        key: raw.key,
        value: raw.value,
        timestampMs: raw.timestampMs,
        partition: undefined,
        headers: {
          ...raw.headers,
          [errorHeaders.code]: 'deserialization-failed',
          [errorHeaders.message]: message,
          [errorHeaders.topic]: topic,
          [errorHeaders.partition]: String(raw.partition),
          [errorHeaders.offset]: String(raw.offset),
        },
      });
      return undefined;
    }
    const consumed = { key, value, timestampMs: raw.timestampMs, headers: raw.headers, topic, partition: raw.partition, offset: raw.offset };
    const extracted = source.timestampExtractor === undefined ? raw.timestampMs : source.timestampExtractor(consumed);
    if (extracted !== null && extracted > this.streamTime) this.streamTime = extracted;
    return new StreamRecord({ ...consumed, timestampMs: extracted ?? raw.timestampMs });
  }
}
