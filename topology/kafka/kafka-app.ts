/**
 * Runs a topology on Kafka: one consumer group member per app instance. This
 * is the loop around the task manager: the consumer's callbacks (a new
 * assignment, a fetched batch, a batch's end), the wall-clock tick and
 * start-up and shutdown. The task manager creates, restores, runs, commits
 * and closes the tasks as the group's assignment changes (task-manager.ts);
 * the task executor hands it each batch (task-executor.ts). All task work —
 * processing, punctuation, commits, assignment changes — runs through one
 * serial queue, so it never interleaves. Interactive reads of the stores do
 * not queue: they run next to it (local-store-reads.ts).
 */
import { join } from 'node:path';
import kafkajs, { type Admin, type Consumer, type EachBatchPayload, type Kafka, type Producer } from 'kafkajs';
import { TallyError } from '../../schemas/index.js';
import { CacheBudget } from '../../state/index.js';
import { tuneHeapForStreaming } from '../internal/heap-tuning.js';
import type { Topology } from '../topology.js';
import { resolveAppConfig, type KafkaAppConfig, type ResolvedAppConfig } from './app-config.js';
import type { AppSnapshot, LocalStore, TaskSnapshot } from './app-observer.js';
import { isBrokerUnreachable, isTransientKafkaFailure, untilBrokerAnswers } from './kafka-errors.js';
import { createProducer, debug, SerialQueue } from './kafka-io.js';
import { kafkajsLogCreator } from './kafkajs-logger.js';
import { readRunningStores } from './local-store-reads.js';
import { createTaskAssignor } from './task-assignor.js';
import { TaskCreator } from './task-creator.js';
import { TaskExecutor } from './task-executor.js';
import { TaskManager } from './task-manager.js';
import { planTopics, type TopicPlan } from './topics.js';

export const appStates = ['created', 'starting', 'rebalancing', 'running', 'closing', 'closed', 'failed'] as const;
export type AppState = (typeof appStates)[number];

export interface KafkaApp {
  readonly state: AppState;
  /** True once every assigned task is restored and processing. */
  readonly ready: boolean;
  /** Ids of the tasks this instance runs (`TaskId` keys, e.g. `1_3`), in TaskId order. */
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
   * running, at once: reads do not wait for the processing of a batch nor for
   * a commit. `read` sees whole records: everything its tasks have
   * processed, committed or not; each scan of a store is a snapshot taken when
   * it starts. A task is never closed under a read: a rebalance that revokes
   * it waits for the reads in flight (local-store-reads.ts).
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
  /** Every task's caches share it (app.cacheMaxBytes). */
  private readonly cacheBudget: CacheBudget;
  private readonly eos: boolean;
  private plan: TopicPlan | undefined;
  private admin: Admin | undefined;
  private consumer: Consumer | undefined;
  private sharedProducer: Producer | undefined;
  private manager: TaskManager | undefined;
  private executor: TaskExecutor | undefined;
  private timer: NodeJS.Timeout | undefined;
  private commitTimer: NodeJS.Timeout | undefined;
  /** True while a wall-clock punctuation stopped by its slice waits in the queue to go on (see punctuate). */
  private punctuationResumeQueued = false;
  /** True when a batch came since the last wall-clock punctuation (see punctuate). */
  private inputSincePunctuation = false;

  constructor(
    private readonly topology: Topology,
    private readonly config: ResolvedAppConfig,
  ) {
    tuneHeapForStreaming();
    this.eos = config.processingGuarantee === 'exactly_once';
    this.cacheBudget = new CacheBudget(config.cacheMaxBytes);
    this.queue = new SerialQueue((label, ms) => config.logger.warn(`${label} has been running for ${Math.round(ms / 1000)} s; everything else waits for it`));
    this.failure = new Promise((resolve) => (this.fail = resolve));
    this.kafka = new kafkajs.Kafka({
      clientId: config.clientId ?? config.applicationId,
      brokers: [...config.brokers],
      logLevel: kafkajs.logLevel.ERROR,
      logCreator: kafkajsLogCreator(config.logger),
      ...(config.ssl === undefined ? {} : { ssl: config.ssl }),
      ...(config.sasl === undefined ? {} : { sasl: config.sasl }),
    });
  }

  get ready(): boolean {
    return this.state === 'running' && (this.manager?.allRunning ?? true);
  }

  get taskIds(): string[] {
    return (this.manager?.all ?? []).map((task) => task.id.key);
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
      // Fetched records wait in memory until processed, the whole response with them: smaller holds
      // less, at a cost in throughput (app.fetchMaxBytes).
      maxBytes: this.config.fetchMaxBytes,
      // A broker outage or restart makes kafkajs give up (retries exhausted, a coordinator still
      // loading) and crash the consumer. The instance stays up: the consumer restarts and rejoins.
      // Any other crash (a failure of Tally's own processing) still fails the app.
      retry: {
        restartOnFailure: async (error: Error) => {
          const restart = isTransientKafkaFailure(error);
          if (restart) this.config.logger.warn(`Kafka failed the consumer (${error.message}); it restarts and rejoins the group`);
          return restart;
        },
      },
    });
    this.consumer = consumer;
    const creator = new TaskCreator({ kafka: this.kafka, topology: this.topology, config: this.config, plan, cacheBudget: this.cacheBudget, sharedProducer: this.sharedProducer });
    const manager = new TaskManager({ topology: this.topology, config: this.config, plan, admin: this.admin, consumer, creator, stopping: () => this.stopping });
    const executor = new TaskExecutor(manager, this.config);
    this.manager = manager;
    this.executor = executor;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      this.state = 'rebalancing';
      manager.joined();
      const { memberId, memberAssignment } = event.payload;
      void this.queue
        .run('applying a new assignment', async () => {
          await manager.handleAssignment(memberId, memberAssignment);
          this.state = 'running';
        })
        .catch((e: Error) => this.crashUnlessUnreachable(e, 'applying a new assignment'));
    });
    consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
      const { topic, partition, fetchedOffset, lastOffset, highWatermark, batchSize } = event.payload;
      // A batch with records went through eachBatch, which moved its task or restoration already.
      if (batchSize > 0) return;
      // The batch covers fetchedOffset..lastOffset. Its first message cannot say where it starts:
      // a batch the log cleaner emptied has none, and still has to move the position past it.
      void this.queue.run(`finishing a batch of ${topic}-${partition}`, () => executor.onBatchEnd(topic, partition, Number(fetchedOffset), Number(lastOffset), Number(highWatermark))).catch((e: Error) => this.crash(e));
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
    // Batches commit when a commit is due, but input that stops (a burst's end, a pause) leaves
    // its last records uncommitted until something else runs: a commit interval is the most they
    // wait. And a commit round that ended meanwhile is handled (a failed task rebuilt) without input.
    this.commitTimer = setInterval(() => {
      void this.queue.run('commit', () => this.onCommitDue()).catch((e: Error) => this.crash(e));
    }, this.config.commitIntervalMs);
  }

  async close(): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') return;
    const failed = this.state === 'failed';
    const wasRunning = this.state !== 'created';
    this.state = 'closing';
    clearInterval(this.timer);
    clearInterval(this.commitTimer);
    const manager = this.manager;
    // After a failure nothing more is committed: every task closes dirty, releasing its LevelDB
    // locks and producer (what it did since its last commit is redone by the next owner).
    if (wasRunning && manager !== undefined) await this.queue.run('closing every task', () => manager.closeAll(!failed));
    await this.consumer?.disconnect().catch(() => undefined);
    await this.sharedProducer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    this.state = 'closed';
  }

  private get stopping(): boolean {
    return this.state === 'closing' || this.state === 'closed' || this.state === 'failed';
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    if (this.stopping) return;
    this.inputSincePunctuation = true;
    await (this.executor as TaskExecutor).onBatch(payload);
  }

  private async onTick(): Promise<void> {
    if (this.state !== 'running' && this.state !== 'rebalancing') return;
    const manager = this.manager as TaskManager;
    const now = this.config.wallClockMs();
    if (debug) {
      const tasks = manager.all;
      this.config.logger.info(`debug tick state=${this.state} restoring=${JSON.stringify(tasks.filter((t) => t.state === 'restoring').map((t) => t.id.key))} work=${JSON.stringify(tasks.filter((t) => t.hasWork).map((t) => t.id.key))}`);
    }
    manager.renewRejoin();
    await manager.retryPendingBuilds();
    await this.punctuate(now);
    if (manager.commitDue(now)) await manager.commitAll();
  }

  /**
   * Fires the due wall-clock punctuators. One that its slice of event-loop
   * time stopped (a backlog of finals for an idle partition) goes on at the
   * next turn when no input came meanwhile; while input keeps coming, at the
   * next tick: input first, and the backlog still gets a slice per task
   * every tick.
   */
  private async punctuate(nowMs: number): Promise<void> {
    this.inputSincePunctuation = false;
    const unfinished = await (this.manager as TaskManager).punctuate(nowMs);
    if (!unfinished || this.punctuationResumeQueued) return;
    this.punctuationResumeQueued = true;
    setImmediate(() => {
      void this.queue
        .run('wall-clock punctuation', async () => {
          this.punctuationResumeQueued = false;
          if ((this.state === 'running' || this.state === 'rebalancing') && !this.inputSincePunctuation) await this.punctuate(this.config.wallClockMs());
        })
        .catch((e: Error) => this.crash(e));
    });
  }

  private async onCommitDue(): Promise<void> {
    if (this.state !== 'running' && this.state !== 'rebalancing') return;
    const manager = this.manager as TaskManager;
    if (manager.commitDue() && manager.all.some((task) => task.hasWork)) await manager.commitAll();
    else if (manager.commitsToFinish) await manager.finishCommits();
  }

  // --- introspection and interactive queries ---

  snapshot(): AppSnapshot {
    const tasks: TaskSnapshot[] = [];
    for (const task of this.manager?.all ?? []) {
      const sources = [...task.positions].map(([topic, position]) => {
        const endOffset = task.sourceEnds.get(topic);
        return { topic, partition: task.partition, position, endOffset, lag: endOffset === undefined ? undefined : Math.max(0, endOffset - position) };
      });
      const taskDir = join(this.config.stateDir, this.config.applicationId, task.id.key);
      tasks.push({
        id: task.id.key,
        partition: task.partition,
        restoring: task.state === 'restoring',
        restoreRemaining: (this.manager as TaskManager).restoreRemaining(task.id),
        sources,
        stores: task.allStores.map((store) => ({ name: store.name, dir: join(taskDir, store.name) })),
      });
    }
    return { state: this.state, ready: this.ready, tasks };
  }

  storeTaskIds(storeName: string): string[] {
    const subtopologies = new Set(this.topology.subtopologies.filter((s) => s.stores.some((store) => store.name === storeName)).map((s) => s.id));
    return (this.plan?.tasks ?? []).filter((t) => subtopologies.has(t.id.subtopology)).map((t) => t.id.key);
  }

  readLocalStores<S, T>(storeName: string, read: (stores: readonly LocalStore<S>[]) => Promise<T>): Promise<T> {
    return readRunningStores(() => this.manager?.all ?? [], storeName, read);
  }

  /** A broker outage while doing `what` is waited out (the group is joined again later); anything else fails the app. */
  private crashUnlessUnreachable(error: Error, what: string): void {
    if (!isBrokerUnreachable(error)) {
      this.crash(error);
      return;
    }
    this.config.logger.warn(`${what} failed while Kafka is unreachable (${error.message}); the group is joined again when it is back`);
    this.manager?.requestRejoin();
  }

  private crash(error: Error): void {
    if (this.state === 'failed' || this.state === 'closed') return;
    this.state = 'failed';
    this.config.logger.error(`app ${this.config.applicationId} failed: ${error.message}`);
    clearInterval(this.timer);
    clearInterval(this.commitTimer);
    this.fail(error);
  }
}
