/**
 * Runs a topology on Kafka: one consumer group member per app instance, tasks
 * per (sub-topology, partition) created, restored and closed as the group's
 * assignment changes, commits every `commitIntervalMs` under the configured
 * guarantee. All task work — processing, punctuation, commits, assignment
 * changes — runs through one serial queue, so it never interleaves.
 */
import { join } from 'node:path';
import kafkajs, { type Admin, type Consumer, type EachBatchPayload, type Kafka, type KafkaMessage, type Producer } from 'kafkajs';
import { TallyError } from '../../schemas/index.js';
import { CacheBudget } from '../../state/index.js';
import { internalTopicName } from '../internal/topic-names.js';
import type { Topology } from '../topology.js';
import { resolveAppConfig, type KafkaAppConfig, type ResolvedAppConfig } from './app-config.js';
import type { AppSnapshot, LocalStore, TaskSnapshot } from './app-observer.js';
import { commitAtLeastOnce, commitExactlyOnce, commitExactlyOnceSideBySide, isBrokerUnreachable, isKafkaError, untilBrokerAnswers } from './commit.js';
import { KafkaTask, TaskMigratedError } from './kafka-task.js';
import { createProducer, SerialQueue, toRawRecord, withRetries } from './kafka-io.js';
import { expandRepartitionBatch } from './repartition-batch.js';
import { Restorer, type ChangelogRestore } from './restoration.js';
import { TableBootstrap } from './table-bootstrap.js';
import { createTaskAssignor } from './task-assignor.js';
import { planTopics, type TopicPlan } from './topics.js';

/** How many records of a batch pass between two checks that kafkajs still wants it processed. */
const stalenessCheckInterval = 16;

/** TALLY_DEBUG=1 logs every batch and commit (noisy; for investigating). */
const debug = process.env['TALLY_DEBUG'] === '1';

export const appStates = ['created', 'starting', 'rebalancing', 'running', 'closing', 'closed', 'failed'] as const;
export type AppState = (typeof appStates)[number];

export interface KafkaApp {
  readonly state: AppState;
  /** True once every assigned task is restored and processing. */
  readonly ready: boolean;
  /** Ids of the tasks this instance runs. */
  readonly taskIds: readonly string[];
  start(): Promise<void>;
  /** Commits, closes every task cleanly (writing checkpoints) and leaves the group. */
  close(): Promise<void>;
  /** Resolves when the app fails; rejects never. */
  readonly failure: Promise<Error>;
  /** Tasks, their source lag, restoration still to do and store locations, now. */
  snapshot(): AppSnapshot;
  /** Every task id of the topology (local or not) whose sub-topology holds `storeName`. */
  storeTaskIds(storeName: string): string[];
  /**
   * Runs `read` with `storeName` of every local task that is restored and
   * running, between two units of processing work (reads never see a half-applied batch).
   */
  readLocalStores<S, T>(storeName: string, read: (stores: readonly LocalStore<S>[]) => Promise<T>): Promise<T>;
}

export function createApp(topology: Topology, config: KafkaAppConfig): KafkaApp {
  return new KafkaTopologyApp(topology, resolveAppConfig(config));
}

class KafkaTopologyApp implements KafkaApp {
  state: AppState = 'created';
  readonly failure: Promise<Error>;
  private fail!: (error: Error) => void;
  private readonly kafka: Kafka;
  private readonly queue: SerialQueue;
  private readonly restorer = new Restorer();
  private readonly bootstrap = new TableBootstrap();
  private readonly tasks = new Map<string, KafkaTask>();
  /** Every task's caches share it (app.cacheMaxBytes). */
  private readonly cacheBudget: CacheBudget;
  private readonly eos: boolean;
  private plan: TopicPlan | undefined;
  private admin: Admin | undefined;
  private consumer: Consumer | undefined;
  private sharedProducer: Producer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastCommitMs = 0;
  private memberId: string | undefined;
  private rejoinRequested = false;

  constructor(
    private readonly topology: Topology,
    private readonly config: ResolvedAppConfig,
  ) {
    this.eos = config.processingGuarantee === 'exactly_once';
    this.cacheBudget = new CacheBudget(config.cacheMaxBytes);
    this.queue = new SerialQueue((label, ms) => config.logger.warn(`${label} has been running for ${Math.round(ms / 1000)} s; everything else waits for it`));
    this.failure = new Promise((resolve) => (this.fail = resolve));
    this.kafka = new kafkajs.Kafka({
      clientId: config.clientId ?? config.applicationId,
      brokers: [...config.brokers],
      logLevel: kafkajs.logLevel.ERROR,
      ...(config.ssl === undefined ? {} : { ssl: config.ssl }),
      ...(config.sasl === undefined ? {} : { sasl: config.sasl }),
    });
  }

  get ready(): boolean {
    return this.state === 'running' && [...this.tasks.keys()].every((id) => !this.restorer.isRestoring(id));
  }

  get taskIds(): string[] {
    return [...this.tasks.keys()].sort();
  }

  async start(): Promise<void> {
    if (this.state !== 'created') throw new TallyError('app-already-started', `the app is ${this.state}; create a new one to start again`);
    this.state = 'starting';
    this.admin = this.kafka.admin();
    const admin = this.admin;
    // Started while the broker is away (a restart during an outage): wait for it, saying so.
    this.plan = await untilBrokerAnswers(
      async () => {
        await admin.connect();
        return planTopics(admin, this.topology, this.config.applicationId, this.config.replicationFactor);
      },
      (error, waitMs) => this.config.logger.warn(`Kafka is unreachable at start-up (${error.message}); trying again in ${Math.round(waitMs / 1000)} s`),
      () => this.state !== 'starting',
    );
    if (!this.eos) {
      this.sharedProducer = createProducer(this.kafka, { idempotent: true });
      await this.sharedProducer.connect();
    }
    const plan = this.plan;
    const consumer = this.kafka.consumer({
      groupId: this.config.applicationId,
      partitionAssigners: [createTaskAssignor(() => plan.tasks, () => this.taskIds, this.config.applicationServer)],
      readUncommitted: !this.eos,
      sessionTimeout: this.config.sessionTimeoutMs,
      rebalanceTimeout: this.config.rebalanceTimeoutMs,
      heartbeatInterval: this.config.heartbeatIntervalMs,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: Math.min(500, this.config.commitIntervalMs * 5),
      // A broker outage makes kafkajs give up (retries exhausted) and crash the consumer. The
      // instance stays up: the consumer restarts and rejoins once the broker answers. Any other
      // crash (a failure of Tally's own processing) still fails the app.
      retry: {
        restartOnFailure: async (error: Error) => {
          const restart = isBrokerUnreachable(error);
          if (restart) this.config.logger.warn(`Kafka is unreachable (${error.message}); the consumer restarts and rejoins when it is back`);
          return restart;
        },
      },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      this.state = 'rebalancing';
      const { memberId, memberAssignment } = event.payload;
      void this.queue.run('applying a new assignment', () => this.reconcile(memberId, memberAssignment)).catch((e: Error) => this.crashUnlessUnreachable(e, 'applying a new assignment'));
    });
    consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
      const { topic, partition, fetchedOffset, lastOffset, highWatermark, batchSize } = event.payload;
      if (this.restorer.lookup(topic, partition) === undefined && batchSize > 0) return;
      // The batch covers fetchedOffset..lastOffset. Its first message cannot say where it starts:
      // a batch the log cleaner emptied has none, and still has to move the position past it.
      void this.queue.run(`finishing a batch of ${topic}-${partition}`, () => this.onBatchEnd(topic, partition, Number(fetchedOffset), Number(lastOffset), Number(highWatermark))).catch((e: Error) => this.crash(e));
    });
    if (debug) {
      for (const name of ['REBALANCING', 'GROUP_JOIN', 'STOP', 'DISCONNECT', 'CONNECT', 'CRASH'] as const) {
        consumer.on(consumer.events[name], (event: { payload?: unknown }) => this.config.logger.info(`debug consumer ${name} ${JSON.stringify(event.payload ?? {}).slice(0, 300)}`));
      }
    }
    consumer.on(consumer.events.CRASH, (event) => {
      if (!event.payload.restart) this.crash(event.payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...plan.sources.keys(), ...plan.changelogs], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.queue.run(`processing ${payload.batch.topic}-${payload.batch.partition}`, () => this.onBatch(payload)),
    });
    this.timer = setInterval(() => {
      void this.queue.run('wall-clock punctuation and commit', () => this.onTick()).catch((e: Error) => this.crash(e));
    }, this.config.wallClockTickMs);
  }

  async close(): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') return;
    const failed = this.state === 'failed';
    const wasRunning = this.state !== 'created';
    this.state = 'closing';
    clearInterval(this.timer);
    if (wasRunning) {
      // After a failure nothing more is committed: every task closes dirty, releasing its
      // LevelDB locks and producer (what it did since its last commit is redone by the next owner).
      await this.queue.run('closing every task', async () => {
        for (const task of [...this.tasks.values()]) await this.closeTask(task, !failed);
      });
    }
    await this.consumer?.disconnect().catch(() => undefined);
    await this.sharedProducer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    this.state = 'closed';
  }

  // --- assignment ---

  private async reconcile(memberId: string, assignment: Record<string, number[]>): Promise<void> {
    const plan = this.plan as TopicPlan;
    if (this.memberId !== undefined && memberId !== this.memberId) {
      // We were dropped from the group (session timeout) and rejoined as a new member:
      // others may have owned our tasks meanwhile. Everything we hold is stale.
      this.config.logger.warn(`member ${this.memberId} lost its membership (now ${memberId}): closing every task dirty; they are rebuilt from their changelogs`);
      for (const task of [...this.tasks.values()]) await this.closeTask(task, false);
    }
    this.memberId = memberId;
    const assigned = new Set(plan.tasks.filter((t) => t.topics.every((topic) => assignment[topic]?.includes(t.partition))).map((t) => t.id));
    this.config.observer?.rebalanced?.([...assigned]);
    for (const [id, task] of this.tasks) if (!assigned.has(id)) await this.closeTask(task, true);
    const consumer = this.consumer as Consumer;
    consumer.pause([...plan.changelogs].map((topic) => ({ topic })));
    // A rebalance makes kafkajs re-read committed offsets, which can be stale right
    // after a transactional commit (no requireStable): put kept tasks back where they were.
    for (const task of this.tasks.values()) this.resumeKeptTask(task);
    for (const spec of plan.tasks) {
      if (!assigned.has(spec.id) || this.tasks.has(spec.id)) continue;
      await this.openAndRestore(spec.id, spec.partition);
    }
    this.state = 'running';
  }

  /** Opens a task and starts restoring its stores (or processing, when there is nothing to restore). */
  private async openAndRestore(id: string, partition: number): Promise<void> {
    const consumer = this.consumer as Consumer;
    const task = await this.openTask(id, partition);
    const restores = await this.restorer.plan(task, this.admin as Admin, (m) => this.config.logger.info(m));
    if (restores.length === 0) {
      await this.startProcessing(task);
      return;
    }
    consumer.pause(this.sourceTopicsOf(task).map((topic) => ({ topic, partitions: [task.partition] })));
    for (const r of restores) {
      consumer.seek({ topic: r.topic, partition: r.partition, offset: String(r.startOffset) });
      consumer.resume([{ topic: r.topic, partitions: [r.partition] }]);
    }
  }

  private resumeKeptTask(task: KafkaTask): void {
    const consumer = this.consumer as Consumer;
    const restoring = this.restorer.forTask(task.id);
    for (const r of restoring) {
      consumer.seek({ topic: r.topic, partition: r.partition, offset: String(r.position) });
      consumer.resume([{ topic: r.topic, partitions: [r.partition] }]);
    }
    const sources = this.sourceTopicsOf(task).map((topic) => ({ topic, partitions: [task.partition] }));
    if (restoring.length > 0) {
      consumer.pause(sources);
      return;
    }
    for (const [topic, offset] of task.positions) consumer.seek({ topic, partition: task.partition, offset: String(offset) });
    this.resumeSources(task);
  }

  /** Resumes a running task's sources: only its tables while they bootstrap, else all. */
  private resumeSources(task: KafkaTask): void {
    const consumer = this.consumer as Consumer;
    const sources = this.sourceTopicsOf(task);
    const bootstrapping = this.bootstrap.isBootstrapping(task.id);
    const [resume, hold] = bootstrapping ? [sources.filter((t) => this.isTableTopic(t)), sources.filter((t) => !this.isTableTopic(t))] : [sources, []];
    if (hold.length > 0) consumer.pause(hold.map((topic) => ({ topic, partitions: [task.partition] })));
    consumer.resume(resume.map((topic) => ({ topic, partitions: [task.partition] })));
  }

  private isTableTopic(physicalTopic: string): boolean {
    const logical = (this.plan as TopicPlan).sources.get(physicalTopic)?.logical;
    return logical !== undefined && this.topology.isBootstrapTopic(logical);
  }

  /** A table topic's position moved: when that completes the task's bootstrap, its streams resume. */
  private bootstrapAdvanced(task: KafkaTask, topic: string): void {
    const position = task.positions.get(topic);
    if (position === undefined || !this.bootstrap.advance(task.id, topic, position)) return;
    this.config.logger.info(`task ${task.id}: tables read to their end; processing its streams`);
    this.resumeSources(task);
  }

  private async openTask(id: string, partition: number): Promise<KafkaTask> {
    const subtopology = this.topology.subtopologies[Number(id.split('_')[0])];
    if (subtopology === undefined) throw new TallyError('task-unknown', `no sub-topology for task ${id}`);
    let producer = this.sharedProducer as Producer;
    if (this.eos) {
      // Initializing the transactional id fences any zombie that still holds this task
      // and completes its pending transaction before we read the changelogs.
      producer = createProducer(this.kafka, { transactionalId: `${this.config.applicationId}-${id}`, transactionTimeout: this.config.transactionTimeoutMs });
      await producer.connect();
      // kafkajs only sends InitProducerId at the first transaction(); take the epoch now, or a
      // zombie that never committed would take a newer one later and fence the rightful owner.
      await (await producer.transaction()).abort();
    }
    const task = new KafkaTask({
      applicationId: this.config.applicationId,
      topology: this.topology,
      subtopology,
      partition,
      stateDir: join(this.config.stateDir, this.config.applicationId),
      wallClockMs: this.config.wallClockMs,
      resolveTopic: (t) => (this.topology.isInternalTopic(t) ? internalTopicName(this.config.applicationId, t) : t),
      producer,
      transactional: this.eos,
      repartitions: (this.plan as TopicPlan).repartitions,
      cacheBudget: this.cacheBudget,
    });
    for (const store of task.allStores) await store.open();
    this.tasks.set(id, task);
    return task;
  }

  /**
   * After restoration: every source partition starts at a definite position —
   * the restored progress offset, or the earliest offset when the task never
   * committed (progress and group offsets commit together, so then there is
   * nothing to resume). Never kafkajs's own position: a task closed dirty
   * mid-batch leaves it past records whose effects were thrown away.
   */
  private async startProcessing(task: KafkaTask): Promise<void> {
    const consumer = this.consumer as Consumer;
    const progress = await task.recoveredProgress();
    const sources = this.sourceTopicsOf(task);
    const tableEnds = new Map<string, number>();
    for (const topic of sources) {
      const offsets = await withRetries(`reading offsets of ${topic}`, () => (this.admin as Admin).fetchTopicOffsets(topic));
      const own = offsets.find((o) => o.partition === task.partition);
      const recovered = progress.get(topic);
      if (recovered !== undefined) task.stream.recoverStreamTime(recovered.streamTimeMs);
      const start = recovered?.offset ?? Number(own?.low ?? 0);
      task.positions.set(topic, start);
      consumer.seek({ topic, partition: task.partition, offset: String(start) });
      // Partitions already read to their end (or empty) count as caught up from the start.
      if (own !== undefined) task.noteEndOffset(topic, Number(own.high), sources.length);
      // `high` is the last stable offset (kafkajs lists offsets read_committed): what the task can reach.
      if (own !== undefined && this.isTableTopic(topic)) tableEnds.set(topic, Number(own.high));
    }
    await task.stream.initProcessors();
    if (this.eos) await task.invalidateCheckpoints();
    const bootstrapping = this.bootstrap.start(task.id, tableEnds, task.positions);
    this.resumeSources(task);
    this.config.logger.info(
      `task ${task.id}: running from ${JSON.stringify(Object.fromEntries(task.positions))} (stream time ${task.stream.streamTimeMs})` +
        (bootstrapping ? `; reading its tables to ${JSON.stringify(Object.fromEntries(this.bootstrap.remaining(task.id)))} first` : ''),
    );
  }

  private async closeTask(task: KafkaTask, clean: boolean): Promise<void> {
    // A task closed before its stores are restored holds part of their changelogs: a checkpoint
    // at the changelog ends would make the next owner of this state dir trust the missing rest.
    const restoring = this.restorer.isRestoring(task.id);
    if (restoring && clean) this.config.logger.info(`task ${task.id}: closed while restoring; no checkpoint is written, so its stores are restored again next time`);
    this.tasks.delete(task.id);
    this.restorer.drop(task.id);
    this.bootstrap.drop(task.id);
    let committed = false;
    if (clean && !restoring) {
      try {
        await this.commitTask(task, true);
        await this.refreshChangelogEnds(task);
        await task.writeCheckpoints();
        committed = true;
      } catch (error) {
        this.config.logger.warn(error instanceof TaskMigratedError ? error.message : `task ${task.id}: commit on close failed: ${(error as Error).message}`);
      }
    }
    if (!committed) this.config.observer?.transactionAborted?.(task.id, clean ? 'commit on close failed' : 'closed dirty');
    await task.close(committed);
    if (this.eos) await task.producer.disconnect().catch(() => undefined);
    this.config.logger.info(`task ${task.id}: closed ${committed ? 'clean' : 'dirty'}${committed ? ` (checkpoints ${JSON.stringify([...task.changelogEnds])})` : ''}`);
  }

  // --- processing ---

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed' || this.state === 'failed') return;
    if (this.rejoinRequested) {
      // kafkajs has no enforceRebalance(); an error it takes for a rebalance makes it rejoin.
      this.rejoinRequested = false;
      throw Object.assign(new Error('a task was fenced: rejoining the group'), { type: 'REBALANCE_IN_PROGRESS' });
    }
    const consumer = this.consumer as Consumer;
    const restore = this.restorer.lookup(batch.topic, batch.partition);
    if (debug) this.config.logger.info(`debug batch ${batch.topic}-${batch.partition} ${batch.firstOffset()}..${batch.lastOffset()} n=${batch.messages.length}`);
    if (restore !== undefined) {
      const done = await this.restorer.apply(restore, batch);
      resolveOffset(batch.lastOffset());
      if (done) await this.restored(restore);
      await this.heartbeatOrCommit(heartbeat);
      return;
    }
    const source = (this.plan as TopicPlan).sources.get(batch.topic);
    const task = source === undefined ? undefined : this.tasks.get(`${source.subtopology}_${batch.partition}`);
    const heldBack = task !== undefined && this.bootstrap.isBootstrapping(task.id) && !this.isTableTopic(batch.topic);
    if (source === undefined || task === undefined || this.restorer.isRestoring(task.id) || heldBack) {
      // Not ours to process (yet), or a stream waiting for its tables: stop fetching it and re-read this batch later.
      consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
      if (source !== undefined && batch.firstOffset() !== null) consumer.seek({ topic: batch.topic, partition: batch.partition, offset: batch.firstOffset() as string });
      return;
    }
    // The task's own position is the truth, not kafkajs's: after a rebalance kafkajs may
    // re-read a stale committed offset or reset an out-of-range one.
    const position = task.positions.get(batch.topic);
    const fetchedOffset = Number((batch as unknown as { fetchedOffset: string }).fetchedOffset);
    if (position !== undefined && fetchedOffset > position) {
      this.config.logger.warn(`task ${task.id}: fetched ${batch.topic}-${batch.partition} from ${fetchedOffset}, past its position ${position}; seeking back`);
      consumer.seek({ topic: batch.topic, partition: batch.partition, offset: String(position) });
      return;
    }
    let complete = true;
    const startedMs = performance.now();
    let processed = 0;
    // The last offset handled; resolved once, after the loop (a record kafkajs delivers again is skipped).
    let handled: string | undefined;
    const messages = batch.messages;
    // What the batch needs fetched (Avro writer schemas) is fetched before any of it is processed.
    if (task.stream.hasPrepare(source.logical)) {
      const preparing = task.stream.prepare(source.logical, messages.map((message) => toRawRecord(message, batch.partition)));
      if (preparing !== undefined) await preparing;
    }
    const stream = task.stream;
    for (let index = 0; index < messages.length; index++) {
      // Stop when the batch is stale. kafkajs's checks cost a lookup each: every few records
      // suffice, as records of a stale batch are still this task's to process.
      if (index % stalenessCheckInterval === 0 && (!isRunning() || isStale())) {
        complete = false;
        break;
      }
      const message = messages[index] as KafkaMessage;
      const offset = Number(message.offset);
      if (position === undefined || offset >= position) {
        const records = expandRepartitionBatch(toRawRecord(message, batch.partition));
        for (const raw of records) stream.process(source.logical, raw);
        task.processed(batch.topic, offset);
        processed += records.length;
      }
      handled = message.offset;
      // A cache that outgrew its capacity asks for an early commit: dirty entries leave only by a flush.
      if (this.config.wallClockMs() - this.lastCommitMs < this.config.commitIntervalMs && (index % stalenessCheckInterval !== 0 || !stream.needsCommit)) continue;
      await this.commitAll();
      // A commit that found this task fenced closed it: nothing more of this batch is ours.
      if (this.tasks.get(task.id) !== task) {
        complete = false;
        break;
      }
    }
    if (handled !== undefined) resolveOffset(handled);
    if (processed > 0) this.config.observer?.recordsProcessed?.(task.id, batch.topic, batch.partition, processed, performance.now() - startedMs);
    if (complete && this.tasks.get(task.id) === task) {
      // A trailing transaction marker belongs to the batch: kafkajs resolves it, so must we.
      const end = Number(batch.lastOffset()) + 1;
      if (end > (task.positions.get(batch.topic) ?? 0)) task.positions.set(batch.topic, end);
      resolveOffset(batch.lastOffset());
    }
    task.noteEndOffset(batch.topic, Number(batch.highWatermark), this.sourceTopicsOf(task).length);
    if (this.tasks.get(task.id) === task) this.bootstrapAdvanced(task, batch.topic);
    await this.heartbeatOrCommit(heartbeat);
  }

  /**
   * kafkajs consumes batches of transaction markers, aborted records, or record
   * batches the log cleaner emptied itself; their end still moves a restoration,
   * or a task's source position, forward. The batch covers `fetchedOffset..lastOffset`.
   */
  private async onBatchEnd(topic: string, partition: number, fetchedOffset: number, lastOffset: number, highWatermark: number): Promise<void> {
    const restore = this.restorer.lookup(topic, partition);
    if (restore !== undefined) {
      if (this.restorer.advance(restore, lastOffset + 1)) await this.restored(restore);
      return;
    }
    const source = (this.plan as TopicPlan).sources.get(topic);
    const task = source === undefined ? undefined : this.tasks.get(`${source.subtopology}_${partition}`);
    const position = task?.positions.get(topic);
    // Only a batch that starts at (or before) the task's position moves it. One fetched before
    // the task was rebuilt (closed dirty and reopened at its committed progress) starts past
    // it: taking its end would skip the records in between for good.
    if (task === undefined || position === undefined) return;
    const contiguous = fetchedOffset <= position;
    if (contiguous && lastOffset + 1 > position) task.positions.set(topic, lastOffset + 1);
    // A partition can end with such a batch: reaching its end counts towards being caught up.
    task.noteEndOffset(topic, highWatermark, this.sourceTopicsOf(task).length);
    this.bootstrapAdvanced(task, topic);
  }

  private async restored(restore: ChangelogRestore): Promise<void> {
    (this.consumer as Consumer).pause([{ topic: restore.topic, partitions: [restore.partition] }]);
    this.config.logger.info(`task ${restore.taskId}: restored store ${restore.storeName} (${restore.restoredRecords} records)`);
    this.config.observer?.storeRestored?.(restore.taskId, restore.storeName, restore.restoredRecords);
    const task = this.tasks.get(restore.taskId);
    if (task !== undefined && !this.restorer.isRestoring(task.id)) await this.startProcessing(task);
  }

  /** Heartbeats; when the group is rebalancing, commits every task first so revocation loses nothing. */
  private async heartbeatOrCommit(heartbeat: () => Promise<void>): Promise<void> {
    if (this.config.wallClockMs() - this.lastCommitMs >= this.config.commitIntervalMs) await this.commitAll();
    try {
      await heartbeat();
    } catch (error) {
      if ((error as { type?: string }).type === 'REBALANCE_IN_PROGRESS') await this.commitAll();
      throw error;
    }
  }

  private async onTick(): Promise<void> {
    if (this.state !== 'running' && this.state !== 'rebalancing') return;
    const now = this.config.wallClockMs();
    if (debug) this.config.logger.info(`debug tick state=${this.state} restoring=${JSON.stringify([...this.tasks.keys()].filter((id) => this.restorer.isRestoring(id)))} work=${JSON.stringify([...this.tasks.values()].filter((t) => t.hasWork).map((t) => t.id))}`);
    for (const task of this.tasks.values()) if (task.caughtUp && !this.restorer.isRestoring(task.id)) await task.stream.punctuateWallClock(now);
    if (now - this.lastCommitMs >= this.config.commitIntervalMs) await this.commitAll();
  }

  /**
   * Commits every task that has work, side by side: one task's round trips
   * to the broker need not wait for another's (see commitExactlyOnceSideBySide
   * for exactly-once). Fenced tasks are closed dirty (their new owner rebuilds them). Under
   * exactly-once, a task whose commit failed for another Kafka reason (broker
   * down or restarting) is closed dirty and rebuilt here at once; any other
   * failure fails the app.
   */
  private async commitAll(): Promise<void> {
    this.lastCommitMs = this.config.wallClockMs();
    const startedMs = performance.now();
    const tasks = [...this.tasks.values()].filter((task) => !this.restorer.isRestoring(task.id));
    const outcomes: PromiseSettledResult<boolean>[] = [];
    if (this.eos) {
      outcomes.push(...(await commitExactlyOnceSideBySide(tasks, this.config.applicationId)));
      outcomes.forEach((outcome, index) => outcome.status === 'fulfilled' && outcome.value && this.reportProduced(tasks[index] as KafkaTask));
    } else outcomes.push(...(await Promise.allSettled(tasks.map((task) => this.commitTask(task, false)))));
    let committed = 0;
    let failure: unknown;
    for (const [index, outcome] of outcomes.entries()) {
      if (outcome.status === 'fulfilled') {
        if (outcome.value) committed++;
        continue;
      }
      const error: unknown = outcome.reason;
      const task = tasks[index] as KafkaTask;
      if (error instanceof TaskMigratedError) {
        this.config.logger.warn(error.message);
        await this.closeTask(task, false);
        this.rejoinRequested = true;
        continue;
      }
      if (!this.eos || !isKafkaError(error)) {
        failure ??= error;
        continue;
      }
      // The transaction was aborted (or is left open, its producer unusable, when even the abort
      // failed): the task's positions, stores and stream time have moved past work that is now
      // thrown away. Going on with it would skip those records for good. Close it dirty and
      // rebuild it from its changelogs at once, with a new producer: taking the epoch aborts
      // whatever transaction the old one left open (which pins the last stable offset).
      this.config.logger.warn(`task ${task.id}: commit failed (${(error as Error).message}); closing it dirty and rebuilding it from its changelogs`);
      await this.closeTask(task, false);
      if (this.state === 'closing' || this.state === 'closed' || this.state === 'failed') continue;
      try {
        await this.openAndRestore(task.id, task.partition);
      } catch (rebuildError) {
        if (!isBrokerUnreachable(rebuildError)) throw rebuildError;
        // The broker is away: the task is rebuilt when the group is joined again (the consumer
        // rejoins once it can reach the broker), not by failing the instance.
        this.config.logger.warn(`task ${task.id}: cannot be rebuilt while Kafka is unreachable (${(rebuildError as Error).message}); it is rebuilt when the group is joined again`);
        this.rejoinRequested = true;
      }
    }
    if (failure !== undefined) throw failure;
    if (committed > 0) this.config.observer?.committed?.(committed, performance.now() - startedMs);
  }

  /** Commits one task if it has work (or `force`); true when it committed. */
  private async commitTask(task: KafkaTask, force: boolean): Promise<boolean> {
    if (!force && !task.hasWork) return false;
    if (debug) this.config.logger.info(`debug commit ${task.id} positions=${JSON.stringify([...task.positions])}`);
    if (this.eos) await commitExactlyOnce(task, this.config.applicationId);
    else await commitAtLeastOnce(task, this.consumer as Consumer);
    this.reportProduced(task);
    return true;
  }

  /** After a task's successful commit: tells the observer what it made durable. */
  private reportProduced(task: KafkaTask): void {
    const observer = this.config.observer;
    for (const [topic, count] of task.takeProducedCounts()) observer?.recordsProduced?.(topic, count);
  }

  // --- introspection and interactive queries ---

  snapshot(): AppSnapshot {
    const tasks: TaskSnapshot[] = [];
    for (const task of this.tasks.values()) {
      const sources = [...task.positions].map(([topic, position]) => {
        const endOffset = task.sourceEnds.get(topic);
        return { topic, partition: task.partition, position, endOffset, lag: endOffset === undefined ? undefined : Math.max(0, endOffset - position) };
      });
      const taskDir = join(this.config.stateDir, this.config.applicationId, task.id);
      tasks.push({
        id: task.id,
        partition: task.partition,
        restoring: this.restorer.isRestoring(task.id),
        restoreRemaining: this.restorer.remaining(task.id),
        sources,
        stores: task.allStores.map((store) => ({ name: store.name, dir: join(taskDir, store.name) })),
      });
    }
    return { state: this.state, ready: this.ready, tasks: tasks.sort((a, b) => a.id.localeCompare(b.id)) };
  }

  storeTaskIds(storeName: string): string[] {
    const subtopologies = new Set(this.topology.subtopologies.filter((s) => s.stores.some((store) => store.name === storeName)).map((s) => s.id));
    return (this.plan?.tasks ?? []).filter((t) => subtopologies.has(Number(t.id.split('_')[0]))).map((t) => t.id);
  }

  readLocalStores<S, T>(storeName: string, read: (stores: readonly LocalStore<S>[]) => Promise<T>): Promise<T> {
    return this.queue.run(`reading store ${storeName}`, () => {
      const stores: LocalStore<S>[] = [];
      for (const task of this.tasks.values()) {
        const store = task.stream.stores.get(storeName);
        if (store === undefined || this.restorer.isRestoring(task.id)) continue;
        stores.push({ taskId: task.id, partition: task.partition, store: store as unknown as S });
      }
      return read(stores);
    });
  }

  private async refreshChangelogEnds(task: KafkaTask): Promise<void> {
    for (const { topic } of task.changelogs.values()) {
      const offsets = await withRetries(`reading offsets of ${topic}`, () => (this.admin as Admin).fetchTopicOffsets(topic));
      for (const o of offsets) if (o.partition === task.partition) task.changelogEnds.set(topic, Number(o.high));
    }
  }

  private sourceTopicsOf(task: KafkaTask): string[] {
    return [...(this.plan as TopicPlan).sources].filter(([, s]) => `${s.subtopology}_${task.partition}` === task.id).map(([topic]) => topic);
  }

  /** A broker outage while doing `what` is waited out (the group is joined again later); anything else fails the app. */
  private crashUnlessUnreachable(error: Error, what: string): void {
    if (!isBrokerUnreachable(error)) {
      this.crash(error);
      return;
    }
    this.config.logger.warn(`${what} failed while Kafka is unreachable (${error.message}); the group is joined again when it is back`);
    this.rejoinRequested = true;
  }

  private crash(error: Error): void {
    if (this.state === 'failed' || this.state === 'closed') return;
    this.state = 'failed';
    this.config.logger.error(`app ${this.config.applicationId} failed: ${error.message}`);
    clearInterval(this.timer);
    this.fail(error);
  }
}

