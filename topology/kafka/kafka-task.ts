/**
 * One task on Kafka: a StreamTask plus what Kafka needs around it — the
 * records it has produced since the last commit, its source positions, its
 * progress record, and (under exactly-once) its own transactional producer.
 */
import type { Producer } from 'kafkajs';
import { TallyError, TopologyError, jsonSerde, type Serde } from '../../schemas/index.js';
import { createKeyValueStore, type CacheBudget, type KeyValueStore, type StateStore } from '../../state/index.js';
import { StreamTask, type OutputRecord, type TaskStore } from '../internal/stream-task.js';
import { DefaultPartitioner } from '../internal/partitioner.js';
import { createTaskStores } from '../internal/task-stores.js';
import { changelogTopicName } from '../internal/topic-names.js';
import { TaskId } from '../task-id.js';
import type { Subtopology, Topology } from '../topology.js';
import { TaskFeedWrites } from './committed-store-feed.js';
import { RepartitionBatcher } from './repartition-batch.js';
import { processingSliceMs } from './processing-slices.js';
import { TaskOutput } from './task-output.js';
import { TaskReads } from './task-reads.js';
import { TaskLifecycle, type TaskState } from './task-state.js';
import { TaskTransaction } from './task-transaction.js';

/** Where a task has got to on one source partition, kept in its progress store. */
export interface SourceProgress {
  /** Next offset to read. */
  readonly offset: number;
  readonly streamTimeMs: number;
}

/** Meta key of the local checkpoint: the next changelog offset the store holds everything before. */
export const checkpointMetaKey = 'checkpoint';

/** Bytes of output a task may have sent and not yet seen acknowledged while its output has room (ProcessorContext.outputHasRoom). */
const maxUnacknowledgedOutputBytes = 4 * 1024 * 1024;

export interface KafkaTaskOptions {
  readonly applicationId: string;
  readonly topology: Topology;
  readonly subtopology: Subtopology;
  readonly partition: number;
  readonly stateDir: string;
  readonly wallClockMs: () => number;
  /** Physical name of a logical topic. */
  readonly resolveTopic: (logical: string) => string;
  /**
   * Where output goes: the task's own transactional producer (exactly-once;
   * `transactional: true`) or the app's shared idempotent one.
   */
  readonly producer: Producer;
  readonly transactional: boolean;
  /** Physical repartition topic → partition count: records for these go out in batches (see repartition-batch). */
  readonly repartitions: ReadonlyMap<string, number>;
  /** Physical sink topic → partition count, what a sink's custom partitioner is told. */
  readonly sinkPartitions: ReadonlyMap<string, number>;
  /** A record failed processing and went to its dead-letter topic; `message` says which and why. */
  readonly onProcessingFailure: (taskId: TaskId, message: string) => void;
  /** The instance's cache budget, shared by every task. */
  readonly cacheBudget: CacheBudget;
  /** Stores whose committed writes are told to a committed-store feed (see committed-store-feed.ts). */
  readonly fedStores?: ReadonlySet<string>;
}

export class KafkaTask {
  readonly id: TaskId;
  readonly partition: number;
  readonly stream: StreamTask;
  /** Stores by name, including the progress store, each with its changelog topic. */
  readonly changelogs: ReadonlyMap<string, { readonly topic: string; readonly store: TaskStore | ProgressStore }>;
  /** Physical source topic → next offset to read (advanced as records are processed). */
  readonly positions = new Map<string, number>();
  /** Physical source topic → latest high watermark seen (for lag). */
  readonly sourceEnds = new Map<string, number>();
  /** Changelog topic → next offset after the last record this task committed to it. */
  readonly changelogEnds = new Map<string, number>();
  /** The task's own transactional producer (exactly-once), or the app's shared one. */
  readonly producer: Producer;
  /** Exactly-once: the open transaction of `producer`; undefined under at-least-once. */
  readonly transaction: TaskTransaction | undefined;
  /** Output on its way to the broker, sent in chunks while the task processes. */
  readonly output: TaskOutput;
  /** Physical sink or dead-letter topic → its partition count (for the default partitioner and custom ones). */
  private readonly sinkPartitions: ReadonlyMap<string, number>;
  /** Kafka's default partition of a sink record its sink did not place. */
  private readonly partitioner = new DefaultPartitioner();
  /**
   * True once every source partition has been read to its end at least once
   * since the task started. Until then wall-clock punctuators do not fire: a
   * backlog after downtime must not be closed (and marked late) by the clock.
   */
  caughtUp = false;
  private readonly caughtUpTopics = new Set<string>();
  private processedSinceCommit = 0;
  /** Records per topic the commit under way makes durable (taken from the output at its start). */
  private committingCounts = new Map<string, number>();
  private readonly progress: ProgressStore;
  private readonly repartitions: RepartitionBatcher;
  /** Its state; only the task manager moves it (see task-state.ts). */
  readonly lifecycle: TaskLifecycle;
  /** Interactive reads of its stores in flight, and the work they must not overlap (task-reads.ts). */
  readonly reads = new TaskReads();
  /** Writes of its fed stores, per commit (committed-store-feed.ts). */
  readonly feedWrites: TaskFeedWrites;

  constructor(options: KafkaTaskOptions) {
    this.partition = options.partition;
    this.sinkPartitions = options.sinkPartitions;
    this.id = new TaskId(options.subtopology.id, options.partition);
    this.lifecycle = new TaskLifecycle(this.id);
    this.repartitions = new RepartitionBatcher(options.repartitions, (record) => this.collectOutput(record));
    this.producer = options.producer;
    this.transaction = options.transactional ? new TaskTransaction(options.producer) : undefined;
    const producer = options.producer;
    this.output =
      this.transaction === undefined
        ? new TaskOutput(async (topicMessages) => void (await producer.sendBatch({ topicMessages, acks: -1 })), { sendWhileProcessing: true })
        : new TaskOutput(this.transaction.send, { sendWhileProcessing: true });
    const send = (record: OutputRecord) => this.collect(record);
    const stores = createTaskStores(options.subtopology.stores, {
      stateDir: options.stateDir,
      taskId: this.id.key,
      partition: options.partition,
      inMemory: false,
      changelogTopic: (store) => changelogTopicName(options.applicationId, store),
      send,
      // Changelog records carry the time they were written: the broker's time retention on
      // window changelogs must count from then, never from (possibly old) event times.
      currentTimestampMs: options.wallClockMs,
      cacheBudget: options.cacheBudget,
    });
    this.progress = createProgressStore(options, this.id, send);
    this.stream = new StreamTask({
      applicationId: options.applicationId,
      topology: options.topology,
      subtopology: options.subtopology,
      partition: options.partition,
      stores,
      collector: { send, hasRoom: () => this.output.unacknowledgedBytes <= maxUnacknowledgedOutputBytes },
      resolveTopic: options.resolveTopic,
      partitionCount: (topic) => this.sinkPartitionCount(topic),
      wallClockMs: options.wallClockMs,
      // A wall-clock punctuator holds the event loop no longer than processing does between turns.
      punctuationSliceMs: processingSliceMs,
      onProcessingFailure: (message) => options.onProcessingFailure(this.id, message),
    });
    const changelogs = new Map<string, { topic: string; store: TaskStore | ProgressStore }>();
    for (const spec of options.subtopology.stores) {
      if (spec.logging) changelogs.set(spec.name, { topic: changelogTopicName(options.applicationId, spec.name), store: stores.get(spec.name) as TaskStore });
    }
    changelogs.set(progressStoreName(options.subtopology.id), { topic: progressChangelogTopic(options.applicationId, options.subtopology.id), store: this.progress });
    this.changelogs = changelogs;
    const fedTopics = new Map<string, { store: string; serde: Serde<unknown> }>();
    for (const spec of options.subtopology.stores) {
      if (spec.logging && spec.kind === 'keyValue' && options.fedStores?.has(spec.name) === true) fedTopics.set(changelogTopicName(options.applicationId, spec.name), { store: spec.name, serde: spec.valueSerde });
    }
    this.feedWrites = new TaskFeedWrites(fedTopics);
  }

  get state(): TaskState {
    return this.lifecycle.state;
  }

  /** Every store the task must open and restore, the progress store included. */
  get allStores(): (StateStore & { readonly name: string })[] {
    return [...this.stream.stores.values(), this.progress];
  }

  /** Positions and stream time recovered from the restored progress store. */
  async recoveredProgress(): Promise<Map<string, SourceProgress>> {
    const result = new Map<string, SourceProgress>();
    for await (const { key, value } of this.progress.all()) result.set(key, value);
    return result;
  }

  processed(physicalTopic: string, offset: number): void {
    this.positions.set(physicalTopic, offset + 1);
    this.processedSinceCommit++;
  }

  /** Notes that `topic` was read up to `endOffset`; the task is caught up when all its sources are. */
  noteEndOffset(topic: string, endOffset: number, sourceTopicCount: number): void {
    this.sourceEnds.set(topic, endOffset);
    if (this.caughtUp || (this.positions.get(topic) ?? 0) < endOffset) return;
    this.caughtUpTopics.add(topic);
    this.caughtUp = this.caughtUpTopics.size >= sourceTopicCount;
  }

  /** True when anything happened since the last commit that a commit must persist. */
  get hasWork(): boolean {
    return this.processedSinceCommit > 0 || this.output.recordCount > 0;
  }

  /**
   * Commit steps 1–2: flush every store's cache (writes its changelog records
   * into this task's output and its data to LevelDB) and the repartition
   * batches (a flush may have forwarded more), then record the source
   * positions and stream time in the progress store. All of that is done
   * when this returns; the promise settles once the stores' LevelDB batches
   * are written, which the caller may wait for later (an exactly-once commit
   * waits for them in the background, before its transaction commits).
   */
  prepareCommit(): Promise<void> {
    // Every flush forwards and logs now, synchronously; only the LevelDB batches are left to write.
    const storesWritten = this.stream.flush();
    try {
      this.repartitions.flush();
      for (const [topic, offset] of this.positions) this.progress.put(topic, { offset, streamTimeMs: this.stream.streamTimeMs });
      const progressWritten = this.progress.flush();
      this.processedSinceCommit = 0;
      // Output added from now on belongs to the next commit (an exactly-once task goes on processing).
      this.committingCounts = this.output.takeCounts();
      if (this.feedWrites.feeds) this.feedWrites.beginCommit();
      return Promise.all([storesWritten, progressWritten]).then(() => undefined);
    } catch (error) {
      // Fails only once the batches already begun are written: a close must never meet one in flight.
      const fail = (): never => {
        throw error;
      };
      return storesWritten.then(fail, fail);
    }
  }

  /** Consumer-group offsets to commit for this task, with stream time as metadata. */
  offsetsToCommit(): { topic: string; partitions: { partition: number; offset: string; metadata: string }[] }[] {
    const metadata = JSON.stringify({ streamTimeMs: this.stream.streamTimeMs });
    return [...this.positions].map(([topic, offset]) => ({ topic, partitions: [{ partition: this.partition, offset: String(offset), metadata }] }));
  }

  /** Writes the local checkpoint (next changelog offset) into every store, atomically with its data. */
  async writeCheckpoints(): Promise<void> {
    for (const [, { topic, store }] of this.changelogs) {
      const end = this.changelogEnds.get(topic);
      if (end !== undefined) await store.flush(new Map([[checkpointMetaKey, Buffer.from(String(end))]]));
    }
  }

  /** Marks every local checkpoint invalid: under exactly-once, state written from now on is uncommitted. */
  async invalidateCheckpoints(): Promise<void> {
    for (const [, { store }] of this.changelogs) await store.flush(new Map([[checkpointMetaKey, Buffer.alloc(0)]]));
  }

  /** Closes processors and every store (the progress store too); dirty drops uncommitted cache contents. */
  async close(clean: boolean): Promise<void> {
    await this.stream.close(clean);
    if (!clean) this.progress.discardCache();
    await this.progress.close();
    if (!clean) {
      this.repartitions.discard();
      this.output.discard();
      this.feedWrites.discard();
    }
  }

  private collect(record: OutputRecord): void {
    if (this.feedWrites.feeds) this.feedWrites.note(record.topic, record.key, record.value);
    if (this.repartitions.takes(record.topic)) this.repartitions.add(record);
    else this.collectOutput(record);
  }

  private collectOutput(record: OutputRecord): void {
    // A sink record its sink did not place gets Kafka's default partition among the topic's partitions as the task knows them.
    const partition = record.partition ?? this.partitioner.partition(record.key, this.sinkPartitionCount(record.topic));
    this.output.add(record.topic, partition, record.key, record.value, record.timestampMs, record.headers);
  }

  private sinkPartitionCount(topic: string): number {
    const count = this.sinkPartitions.get(topic);
    if (count === undefined) {
      throw new TopologyError(
        'sink-topic-unknown',
        `task ${this.id.key} has no partition count for topic "${topic}": only the topology's sink and dead-letter topics that existed when the app started have one; create the topic (e.g. \`tally topics\`) and start the app again`,
      );
    }
    return count;
  }

  /** Counts of records per topic the last commit made durable; call after it succeeded. */
  takeProducedCounts(): Map<string, number> {
    const counts = this.committingCounts;
    this.committingCounts = new Map();
    return counts;
  }
}

type ProgressStore = KeyValueStore<SourceProgress> & StateStore & { readonly name: string };

/** The progress store of a sub-topology's tasks. */
export function progressStoreName(subtopologyId: number): string {
  return `progress-${subtopologyId}`;
}

export function progressChangelogTopic(applicationId: string, subtopologyId: number): string {
  return changelogTopicName(applicationId, progressStoreName(subtopologyId));
}

function createProgressStore(options: KafkaTaskOptions, taskId: TaskId, send: (record: OutputRecord) => void): ProgressStore {
  const topic = progressChangelogTopic(options.applicationId, options.subtopology.id);
  return createKeyValueStore<SourceProgress>(
    { name: progressStoreName(options.subtopology.id), kind: 'keyValue', persistent: true, caching: true, logging: true, valueSerde: jsonSerde<SourceProgress>() },
    {
      stateDir: options.stateDir,
      taskId: taskId.key,
      changelog: { append: (key, value, timestampMs) => send({ topic, key, value, timestampMs, headers: {}, partition: options.partition }) },
      // Stamped with the wall clock, as every changelog record. The broker rolls a segment when a
      // batch's timestamp is segment.ms past the segment's first batch, and the commit markers
      // between these records carry the broker's clock: a segment opened by a record stamped 0
      // would be rolled by the very next marker. Stream time is no better: after downtime or in
      // a backfill it lags far behind the markers.
      currentTimestampMs: options.wallClockMs,
    },
  );
}

/** A commit that can never succeed for this task: another member owns it now. */
export class TaskMigratedError extends TallyError {
  constructor(taskId: TaskId, cause: unknown) {
    super('task-migrated', `task ${taskId.key} was fenced: another instance owns it now; it is closed without saving its state`, { cause, retriable: true });
  }
}
