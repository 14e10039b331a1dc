/**
 * Runs a topology in process, without a broker — the counterpart of Kafka
 * Streams' TopologyTestDriver. Topics are in-memory logs with simulated
 * partitions; every sub-topology gets one task per partition with real stores
 * (LevelDB under a temp dir unless told otherwise). Records written to topics
 * that the topology reads (repartition topics) are processed right away, in
 * order. Wall-clock time only moves when the test moves it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TopologyError, stringSerde, type Serde } from '../schemas/index.js';
import { CacheBudget, type KeyValueStore, type WindowStore } from '../state/index.js';
import type { Headers } from './record.js';
import { TaskId } from './task-id.js';
import type { Topology } from './topology.js';
import { createTaskStores } from './internal/task-stores.js';
import { tuneHeapForStreaming } from './internal/heap-tuning.js';
import { StreamTask, type OutputRecord, type RawRecord } from './internal/stream-task.js';
import { TopicLog, type LoggedRecord } from './internal/topic-log.js';
import { changelogTopicName, internalTopicName } from './internal/topic-names.js';

export interface TestDriverOptions {
  readonly applicationId?: string;
  /** Parent directory for persistent stores; default a fresh temp dir, removed on close. */
  readonly stateDir?: string;
  /** Build every store in memory, whatever its spec says (a ceiling for benchmarks). */
  readonly inMemoryStores?: boolean;
  /** Partition counts by topic name (internal topics by logical name); default 1. */
  readonly partitions?: Readonly<Record<string, number>>;
  readonly initialWallClockMs?: number;
  /**
   * Event-loop time (ms) one firing of a wall-clock punctuator may hold
   * (ProcessorContext.mayContinue); default none. `advanceWallClockTime`
   * fires a punctuator its slice stopped again until it is done, as the
   * runtime does at its next turns.
   */
  readonly punctuationSliceMs?: number;
  /** Commit (flush caches) after every N piped records; 0 = only on commit(). Default 1. */
  readonly commitEveryRecords?: number;
  /** Bytes every task's record caches may hold together (as `app.cacheMaxBytes`); default 16 MiB. */
  readonly cacheMaxBytes?: number;
  /** Keep every record written to a topic for reading back (default true); false for large runs. */
  readonly retainRecords?: boolean;
  /** Sees every record written to any topic (input, output, internal, changelog), in order. */
  readonly onRecord?: (record: LoggedRecord) => void;
}

export interface PipeOptions {
  readonly timestampMs?: number;
  readonly headers?: Headers;
  readonly partition?: number;
}

export interface TestRecord<K, V> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: K;
  readonly value: V;
  readonly timestampMs: number;
  readonly headers: Headers;
}

export class TopologyTestDriver {
  readonly applicationId: string;
  private readonly topology: Topology;
  private readonly log: TopicLog;
  private readonly tasks: StreamTask[][] = [];
  /** Physical topic → the logical source topic and the sub-topology that reads it. */
  private readonly readers = new Map<string, { logical: string; subtopology: number }>();
  private readonly pending: { physical: string; raw: RawRecord }[] = [];
  private readonly commitEveryRecords: number;
  private readonly cacheBudget: CacheBudget;
  private readonly ownsStateDir: boolean;
  private readonly stateDir: string;
  private readonly punctuationSliceMs: number | undefined;
  private wallClock: number;
  private pipedSinceCommit = 0;

  private constructor(topology: Topology, options: TestDriverOptions, stateDir: string, ownsStateDir: boolean) {
    tuneHeapForStreaming();
    this.topology = topology;
    this.applicationId = options.applicationId ?? 'test-app';
    this.wallClock = options.initialWallClockMs ?? 0;
    this.commitEveryRecords = options.commitEveryRecords ?? 1;
    this.punctuationSliceMs = options.punctuationSliceMs;
    this.cacheBudget = new CacheBudget(options.cacheMaxBytes);
    this.stateDir = stateDir;
    this.ownsStateDir = ownsStateDir;
    this.log = new TopicLog((topic) => this.partitionsOf(topic, options.partitions ?? {}), options.retainRecords ?? true, options.onRecord);
  }

  static async create(topology: Topology, options: TestDriverOptions = {}): Promise<TopologyTestDriver> {
    const ownsStateDir = options.stateDir === undefined;
    const stateDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), 'tally-driver-')));
    const driver = new TopologyTestDriver(topology, options, stateDir, ownsStateDir);
    await driver.createTasks(options.inMemoryStores ?? false);
    return driver;
  }

  /** Physical name of a topic: internal topics carry the application id. */
  topicName(logicalTopic: string): string {
    return this.topology.isInternalTopic(logicalTopic) ? internalTopicName(this.applicationId, logicalTopic) : logicalTopic;
  }

  get wallClockMs(): number {
    return this.wallClock;
  }

  /** Pipes raw bytes into a topic, processes them (and everything they cause), then commits if due. */
  async pipeRaw(topic: string, key: Buffer | null, value: Buffer | null, options: PipeOptions = {}): Promise<void> {
    const raw = this.log.append(topic, key, value, options.timestampMs ?? this.wallClock, options.headers ?? {}, options.partition);
    await this.processAndDrain(topic, raw);
    this.pipedSinceCommit++;
    const due = this.commitEveryRecords > 0 && this.pipedSinceCommit >= this.commitEveryRecords;
    // A cache that outgrew its capacity asks for an early commit, as on Kafka.
    if (due || this.tasks.some((tasks) => tasks.some((task) => task.needsCommit))) await this.commit();
  }

  /** A typed handle for piping into one topic. */
  inputTopic<K, V>(topic: string, keySerde: Serde<K> = stringSerde as never, valueSerde: Serde<V> = stringSerde as never) {
    return {
      pipe: (key: K | null, value: V | null, options?: PipeOptions): Promise<void> =>
        this.pipeRaw(topic, key === null ? null : keySerde.serialize(key), value === null ? null : valueSerde.serialize(value), options),
    };
  }

  /** A typed reader of one topic (physical name); each reader keeps its own position. */
  outputTopic<K, V>(topic: string, keySerde: Serde<K> = stringSerde as never, valueSerde: Serde<V> = stringSerde as never) {
    let position = 0;
    const decode = (r: LoggedRecord): TestRecord<K | null, V | null> => ({
      ...r,
      key: r.key === null ? null : keySerde.deserialize(r.key),
      value: r.value === null ? null : valueSerde.deserialize(r.value),
    });
    return {
      readRecords: (): TestRecord<K | null, V | null>[] => {
        const records = this.log.read(topic, position);
        position += records.length;
        return records.map(decode);
      },
      readValues: (): (V | null)[] => {
        const records = this.log.read(topic, position);
        position += records.length;
        return records.map((r) => decode(r).value);
      },
    };
  }

  /** Every record written to a topic so far (physical name), raw. */
  readAll(topic: string): readonly LoggedRecord[] {
    return this.log.read(topic, 0);
  }

  /** Names of every topic that holds at least one record. */
  topicsWithRecords(): string[] {
    return this.log.topics();
  }

  /** Moves the wall clock, fires due wall-clock punctuators in every task, then commits. */
  async advanceWallClockTime(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`wall-clock time only moves forward, got ${ms} ms`);
    this.wallClock += ms;
    for (const tasks of this.tasks) {
      for (const task of tasks) {
        while (await task.punctuateWallClock(this.wallClock)) await this.drain();
        await this.drain();
      }
    }
    await this.commit();
  }

  /** Flushes every task's caches, upstream sub-topologies first, processing what they forward. */
  async commit(): Promise<void> {
    this.pipedSinceCommit = 0;
    for (const tasks of this.tasks) {
      for (const task of tasks) {
        await task.flush();
        await this.drain();
      }
    }
  }

  getKeyValueStore<V>(name: string, partition = 0): KeyValueStore<V> {
    return this.storeOf(name, partition) as unknown as KeyValueStore<V>;
  }

  getWindowStore<V>(name: string, partition = 0): WindowStore<V> {
    return this.storeOf(name, partition) as unknown as WindowStore<V>;
  }

  /** Stream time of the task for (sub-topology, partition). */
  streamTimeMs(subtopology: number, partition = 0): number {
    return this.taskAt(subtopology, partition).streamTimeMs;
  }

  /** Closes every task (commit first), then removes the state dir if the driver made it. */
  async close(): Promise<void> {
    await this.commit();
    for (const tasks of this.tasks) for (const task of tasks) await task.close(true);
    if (this.ownsStateDir) await rm(this.stateDir, { recursive: true, force: true });
  }

  private async createTasks(inMemoryStores: boolean): Promise<void> {
    for (const sub of this.topology.subtopologies) {
      const counts = sub.sourceTopics.map((t) => this.log.partitionCount(this.topicName(t)));
      const partitions = counts[0] ?? 1;
      if (counts.some((c) => c !== partitions)) {
        const detail = sub.sourceTopics.map((t, i) => `${t}: ${counts[i]}`).join(', ');
        throw new TopologyError('topology-not-copartitioned', `sub-topology ${sub.id} reads topics with different partition counts (${detail}): they must be co-partitioned`);
      }
      for (const topic of sub.sourceTopics) this.readers.set(this.topicName(topic), { logical: topic, subtopology: sub.id });
      for (const store of sub.stores) if (store.logging) this.log.declare(changelogTopicName(this.applicationId, store.name), partitions);
      const tasks: StreamTask[] = [];
      for (let partition = 0; partition < partitions; partition++) {
        const stores = createTaskStores(sub.stores, {
          stateDir: join(this.stateDir, this.applicationId),
          taskId: new TaskId(sub.id, partition).key,
          inMemory: inMemoryStores,
          changelogTopic: (store) => changelogTopicName(this.applicationId, store),
          send: (record) => this.collect(record),
          partition,
          currentTimestampMs: () => this.wallClock,
          cacheBudget: this.cacheBudget,
        });
        const task = new StreamTask({
          applicationId: this.applicationId,
          topology: this.topology,
          subtopology: sub,
          partition,
          stores,
          collector: { send: (record) => this.collect(record) },
          resolveTopic: (t) => this.topicName(t),
          partitionCount: (t) => this.log.partitionCount(t),
          wallClockMs: () => this.wallClock,
          ...(this.punctuationSliceMs === undefined ? {} : { punctuationSliceMs: this.punctuationSliceMs }),
        });
        await task.init();
        tasks.push(task);
      }
      this.tasks.push(tasks);
    }
  }

  private collect(record: OutputRecord): void {
    const raw = this.log.append(record.topic, record.key, record.value, record.timestampMs, record.headers, record.partition);
    if (this.readers.has(record.topic)) this.pending.push({ physical: record.topic, raw });
  }

  private async processAndDrain(physical: string, raw: RawRecord): Promise<void> {
    await this.processOne(physical, raw);
    await this.drain();
  }

  private async drain(): Promise<void> {
    for (let next = this.pending.shift(); next !== undefined; next = this.pending.shift()) {
      await this.processOne(next.physical, next.raw);
    }
  }

  /** As the Kafka runner does per batch: `prepare` (awaited when it fetches), then the synchronous `process`. */
  private async processOne(physical: string, raw: RawRecord): Promise<void> {
    const reader = this.readers.get(physical);
    if (reader === undefined) return;
    const task = this.taskAt(reader.subtopology, raw.partition);
    const preparing = task.prepare(reader.logical, [raw.value]);
    if (preparing !== undefined) await preparing;
    task.process(reader.logical, raw);
  }

  private taskAt(subtopology: number, partition: number): StreamTask {
    const task = this.tasks[subtopology]?.[partition];
    if (task === undefined) throw new RangeError(`no task for sub-topology ${subtopology}, partition ${partition} in this topology`);
    return task;
  }

  private storeOf(name: string, partition: number) {
    for (const tasks of this.tasks) {
      const store = tasks[partition]?.stores.get(name);
      if (store !== undefined) return store;
    }
    throw new TopologyError('driver-unknown-store', `no store "${name}" on partition ${partition}: known stores are ${[...this.topology.stores.keys()].join(', ') || 'none'}`);
  }

  private partitionsOf(physical: string, partitions: Readonly<Record<string, number>>): number {
    const explicit = partitions[physical];
    if (explicit !== undefined) return explicit;
    const prefix = internalTopicName(this.applicationId, '');
    const logical = physical.startsWith(prefix) ? physical.slice(prefix.length) : undefined;
    if (logical !== undefined && this.topology.isInternalTopic(logical)) {
      const declared = partitions[logical] ?? this.topology.internalTopics.get(logical)?.partitions;
      if (declared !== undefined) return declared;
      const external = this.topology.sourceTopics.filter((t) => !this.topology.isInternalTopic(t));
      return Math.max(1, ...external.map((t) => partitions[t] ?? 1));
    }
    return 1;
  }
}
