/**
 * The task manager (Kafka Streams' TaskManager): owns this instance's tasks
 * by TaskId and makes every move of their lifecycle (task-state.ts):
 *
 * - an assignment creates the new tasks and starts restoring them, puts the
 *   kept ones back where they were, and suspends, commits and closes the
 *   revoked ones;
 * - a task whose last changelog is restored starts running;
 * - a commit round that finds a task fenced closes it dirty (its new owner
 *   rebuilds it) and asks the group for a rejoin; under exactly-once a task
 *   whose commit failed for another Kafka reason is closed dirty and rebuilt;
 * - a member that rejoined the group under a new id closes everything dirty.
 *
 * Everything here runs inside the app's serial queue, one job at a time.
 */
import type { Admin, Batch, Consumer } from 'kafkajs';
import type { ReadOnlyKeyValueStore } from '../../state/index.js';
import { TaskId } from '../task-id.js';
import type { Topology } from '../topology.js';
import type { ResolvedAppConfig } from './app-config.js';
import { beginCommitRound, commitAtLeastOnce, commitExactlyOnce } from './commit.js';
import { CommitSchedule } from './commit-schedule.js';
import type { FedWrite } from './committed-store-feed.js';
import { isBrokerUnreachable, isKafkaError } from './kafka-errors.js';
import { debug, withRetries } from './kafka-io.js';
import { TaskMigratedError, type KafkaTask } from './kafka-task.js';
import { yieldToEventLoop } from './processing-slices.js';
import { Restorer, type ChangelogRestore } from './restoration.js';
import { TableBootstrap } from './table-bootstrap.js';
import type { TaskCreator } from './task-creator.js';
import { TaskPartitions } from './task-partitions.js';
import type { TopicPlan } from './topics.js';

export interface TaskManagerOptions {
  readonly topology: Topology;
  readonly config: ResolvedAppConfig;
  readonly plan: TopicPlan;
  readonly admin: Admin;
  readonly consumer: Consumer;
  readonly creator: TaskCreator;
  /** True once the app is closing or has failed: a task closed then is not rebuilt. */
  readonly stopping: () => boolean;
}

export class TaskManager {
  readonly partitions: TaskPartitions;
  /** Tasks by TaskId key: created, restoring or running. A suspended task has left already. */
  private readonly tasks = new Map<string, KafkaTask>();
  private readonly restorer = new Restorer();
  private readonly bootstrap = new TableBootstrap();
  private readonly eos: boolean;
  private memberId: string | undefined;
  /** A rejoin of the group was asked for and no assignment has arrived since (see requestRejoin). */
  private rejoinPending = false;
  /** Assigned tasks whose build met an unreachable broker, by TaskId key: built again every tick. */
  private readonly pendingBuilds = new Map<string, TaskId>();
  /** When the next commit round is due, and the round under way (exactly-once: the tasks process meanwhile). */
  private readonly commits: CommitSchedule;

  constructor(private readonly options: TaskManagerOptions) {
    this.eos = options.config.processingGuarantee === 'exactly_once';
    this.commits = new CommitSchedule(options.config.commitIntervalMs);
    this.partitions = new TaskPartitions(options.consumer, options.plan, options.topology);
  }

  // --- the tasks ---

  /** Every task, by id. */
  get all(): KafkaTask[] {
    return [...this.tasks.values()].sort((a, b) => TaskId.compare(a.id, b.id));
  }

  /** True when every task is running (restored); also when there is none. */
  get allRunning(): boolean {
    return this.all.every((task) => task.state === 'running');
  }

  /** The task reading partition `partition` of source `topic`, when this instance runs it. */
  taskOf(topic: string, partition: number): KafkaTask | undefined {
    const id = this.partitions.taskIdOf(topic, partition);
    return id === undefined ? undefined : this.tasks.get(id.key);
  }

  /** True while `task` is the one this instance runs under its id (not closed, not replaced by a rebuilt one). */
  owns(task: KafkaTask): boolean {
    return this.tasks.get(task.id.key) === task;
  }

  /** True when `task` may process a batch of `topic` now: it runs, and `topic` is a table or its tables are read. */
  accepts(task: KafkaTask, topic: string): boolean {
    return task.state === 'running' && (!this.bootstrap.isBootstrapping(task.id) || this.partitions.isTableTopic(topic));
  }

  /** Changelog records a task (or every task) still has to restore. */
  restoreRemaining(id?: TaskId): number {
    return this.restorer.remaining(id);
  }

  /**
   * Fires the due wall-clock punctuators of every running task that has read
   * its sources to their end once, and those a call before left unfinished
   * (stopped by their slice of event-loop time). A punctuator may be
   * asynchronous: no interactive read of the task starts until they are
   * done. True when one is left unfinished: call again at the next turn.
   */
  async punctuate(nowMs: number): Promise<boolean> {
    let unfinished = false;
    for (const task of this.all) {
      // A task its slice stopped held the loop for one: the next task starts after a turn.
      if (unfinished) await yieldToEventLoop();
      if (!task.caughtUp || task.state !== 'running') continue;
      if (await task.reads.exclusive(() => task.stream.punctuateWallClock(nowMs))) unfinished = true;
    }
    return unfinished;
  }

  // --- assignment ---

  async handleAssignment(memberId: string, assignment: Record<string, number[]>): Promise<void> {
    const { config, plan } = this.options;
    await this.finishCommits();
    if (this.memberId !== undefined && memberId !== this.memberId) {
      // We were dropped from the group (session timeout) and rejoined as a new member:
      // others may have owned our tasks meanwhile. Everything we hold is stale.
      config.logger.warn(`member ${this.memberId} lost its membership (now ${memberId}): closing every task dirty; they are rebuilt from their changelogs`);
      for (const task of this.all) await this.close(task, false);
    }
    this.memberId = memberId;
    const assigned = plan.tasks.filter((t) => t.topics.every((topic) => assignment[topic]?.includes(t.id.partition))).map((t) => t.id);
    const keys = new Set(assigned.map((id) => id.key));
    config.observer?.rebalanced?.(assigned.map((id) => id.key));
    for (const task of this.all) if (!keys.has(task.id.key)) await this.close(task, true);
    this.partitions.pauseChangelogs();
    // A rebalance makes kafkajs re-read committed offsets, which can be stale right
    // after a transactional commit (no requireStable): put kept tasks back where they were.
    for (const task of this.all) {
      if (task.state === 'restoring') this.partitions.restore(task, this.restorer.forTask(task.id));
      else this.partitions.putBack(task, this.bootstrap.isBootstrapping(task.id));
    }
    for (const key of [...this.pendingBuilds.keys()]) if (!keys.has(key)) this.pendingBuilds.delete(key);
    for (const id of assigned) if (!this.tasks.has(id.key)) await this.createAndRestore(id);
  }

  /**
   * Creates a task and starts restoring its stores (or running it, when
   * there is nothing to restore). When the broker cannot be reached on the
   * way, the half-built task is closed dirty and the build waits for
   * `retryPendingBuilds` (every tick) or the next assignment: an outage never
   * leaves an assigned task half-built, nor fails the instance.
   */
  private async createAndRestore(id: TaskId): Promise<void> {
    const { admin, config, creator } = this.options;
    this.pendingBuilds.delete(id.key);
    let task: KafkaTask | undefined;
    try {
      task = await creator.create(id);
      this.tasks.set(id.key, task);
      const restores = await this.restorer.plan(task, admin, (m) => config.logger.info(m));
      task.lifecycle.moveTo('restoring');
      if (restores.length === 0) await this.startRunning(task);
      else this.partitions.restore(task, restores);
    } catch (error) {
      if (task !== undefined && this.tasks.get(id.key) === task) await this.close(task, false);
      if (!isBrokerUnreachable(error)) throw error;
      config.logger.warn(`task ${id.key}: cannot be built while Kafka is unreachable (${(error as Error).message}); trying again every tick`);
      this.pendingBuilds.set(id.key, id);
    }
  }

  /** Builds the assigned tasks an outage kept from being built (see createAndRestore). */
  async retryPendingBuilds(): Promise<void> {
    for (const id of [...this.pendingBuilds.values()]) {
      if (this.options.stopping()) return;
      await this.createAndRestore(id);
    }
  }

  // --- restoration ---

  /** The restoration reading `topic`-`partition`, if one does. */
  restoreOf(topic: string, partition: number): ChangelogRestore | undefined {
    return this.restorer.lookup(topic, partition);
  }

  /**
   * Applies a fetched changelog batch: 'restored' when that changelog
   * partition is then complete (call `restored`), 'applied' when it is not yet.
   * A batch that starts past the restoration's position is 'refused': the
   * partition is sought back to the position, and the batch must not be resolved.
   */
  async applyRestoreBatch(restore: ChangelogRestore, batch: Batch, fetchedOffset: number): Promise<'restored' | 'applied' | 'refused'> {
    if (!this.restorer.follows(restore, fetchedOffset)) {
      this.options.config.logger.warn(`task ${restore.taskId.key}: fetched ${restore.topic}-${restore.partition} from ${fetchedOffset}, past its restoration's position ${restore.position}; seeking back`);
      this.partitions.seek(restore.topic, restore.partition, restore.position);
      return 'refused';
    }
    return (await this.restorer.apply(restore, batch)) ? 'restored' : 'applied';
  }

  /** A batch without records (markers only, or emptied by the log cleaner) still moves a restoration it continues. */
  async advanceRestore(restore: ChangelogRestore, fetchedOffset: number, position: number): Promise<void> {
    if (this.restorer.follows(restore, fetchedOffset) && this.restorer.advance(restore, position)) await this.restored(restore);
  }

  /** One changelog partition is restored; when it was its task's last, the task starts running. */
  async restored(restore: ChangelogRestore): Promise<void> {
    const { config } = this.options;
    this.partitions.pause(restore.topic, restore.partition);
    config.logger.info(`task ${restore.taskId.key}: restored store ${restore.storeName} (${restore.restoredRecords} records)`);
    config.observer?.storeRestored?.(restore.taskId.key, restore.storeName, restore.restoredRecords);
    const task = this.tasks.get(restore.taskId.key);
    if (task !== undefined && !this.restorer.isRestoring(task.id)) await this.startRestored(task);
  }

  /**
   * Starts a task whose stores are restored. When that fails for a Kafka
   * reason (the broker restarting while its offsets are read or its
   * partitions sought), nothing would ever try again: its restoration is over
   * and no batch comes for it. It is closed dirty and built again every tick,
   * as a build that meets an unreachable broker is.
   */
  private async startRestored(task: KafkaTask): Promise<void> {
    try {
      await this.startRunning(task);
    } catch (error) {
      if (!isKafkaError(error) && !isBrokerUnreachable(error)) throw error;
      this.options.config.logger.warn(`task ${task.id.key}: cannot start after its restoration (${(error as Error).message}); closing it dirty and building it again`);
      if (this.owns(task)) await this.close(task, false);
      if (!this.options.stopping()) this.pendingBuilds.set(task.id.key, task.id);
    }
  }

  /**
   * After restoration: every source partition starts at a definite position —
   * the restored progress offset, or the earliest offset when the task never
   * committed (progress and group offsets commit together, so then there is
   * nothing to resume). Never kafkajs's own position: a task closed dirty
   * mid-batch leaves it past records whose effects were thrown away.
   */
  private async startRunning(task: KafkaTask): Promise<void> {
    const { admin, config } = this.options;
    const tableEnds = await this.partitions.startSources(task, await task.recoveredProgress(), admin);
    await task.stream.initProcessors();
    if (this.eos) await task.invalidateCheckpoints();
    await this.feedStarted(task);
    const bootstrapping = this.bootstrap.start(task.id, tableEnds, task.positions);
    task.lifecycle.moveTo('running');
    this.partitions.resumeSources(task, bootstrapping);
    config.logger.info(
      `task ${task.id.key}: running from ${JSON.stringify(Object.fromEntries(task.positions))} (stream time ${task.stream.streamTimeMs})` +
        (bootstrapping ? `; reading its tables to ${JSON.stringify(Object.fromEntries(this.bootstrap.remaining(task.id)))} first` : ''),
    );
  }

  /** A table topic's position moved: when that completes the task's bootstrap, its streams resume. */
  bootstrapAdvanced(task: KafkaTask, topic: string): void {
    const position = task.positions.get(topic);
    if (position === undefined || !this.bootstrap.advance(task.id, topic, position)) return;
    this.options.config.logger.info(`task ${task.id.key}: tables read to their end; processing its streams`);
    this.partitions.resumeSources(task, false);
  }

  // --- commits ---

  /** True when the next commit round is due (see CommitSchedule: not while the last one is under way). */
  commitDue(nowMs = this.options.config.wallClockMs()): boolean {
    return this.commits.isDue(nowMs);
  }

  /**
   * The member must rejoin the group: a task was fenced, or an assignment could
   * not be applied while the broker was away. The consumer joins again at its
   * next fetch, batch or no batch; the request stands (renewed every tick by
   * `renewRejoin`) until an assignment arrives, so a join that fails because
   * the broker is away again is tried again.
   */
  requestRejoin(): void {
    this.rejoinPending = true;
    this.options.consumer.enforceRebalance();
  }

  /** Asks again for a rejoin still pending (the last join may have failed). */
  renewRejoin(): void {
    if (this.rejoinPending) this.options.consumer.enforceRebalance();
  }

  /** The group was joined: a pending rejoin is done. Called as the assignment arrives, before it is applied. */
  joined(): void {
    this.rejoinPending = false;
  }

  /**
   * Commits every running task that has work (beginCommitRound), once the
   * round before has finished. Resolves when the round has begun: under
   * exactly-once the tasks go on processing while their transactions
   * commit, and what the round found is handled when it has finished, by
   * the next call or by `finishCommits`. Fenced tasks are closed dirty
   * (their new owner rebuilds them). Under exactly-once, a task whose commit
   * failed for another Kafka reason (broker down or restarting) is closed
   * dirty and rebuilt at once; any other failure fails the app.
   */
  async commitAll(): Promise<void> {
    const { config, consumer } = this.options;
    await this.finishCommits();
    const beganMs = config.wallClockMs();
    const startedMs = performance.now();
    const running = this.all.filter((task) => task.state === 'running');
    if (debug) for (const task of running) if (task.hasWork) config.logger.info(`debug commit ${task.id.key} positions=${JSON.stringify([...task.positions])}`);
    const round = await beginCommitRound(running, { exactlyOnce: this.eos, groupId: config.applicationId, consumer, committedTask: (task) => this.reportProduced(task) });
    this.commits.began(beganMs, { finished: round.finished, startedMs });
    if (!this.eos) await this.finishCommits();
  }

  /** True when the last commit round has ended and what it found is still to be handled (`finishCommits`). */
  get commitsToFinish(): boolean {
    return this.commits.ended;
  }

  /** Waits for the commit round under way, if any, and handles what it found (see commitAll). */
  async finishCommits(): Promise<void> {
    const underWay = this.commits.underWay;
    if (underWay === undefined) return;
    const round = await underWay.finished;
    this.commits.handled();
    const { config } = this.options;
    let failure: unknown;
    for (const { task, error } of round.failed) {
      // Closed meanwhile (revoked, or rebuilt): nothing more to do about it.
      if (!this.owns(task)) continue;
      if (error instanceof TaskMigratedError) {
        config.logger.warn(error.message);
        await this.close(task, false);
        this.requestRejoin();
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
      config.logger.warn(`task ${task.id.key}: commit failed (${(error as Error).message}); closing it dirty and rebuilding it from its changelogs`);
      await this.close(task, false);
      // While the broker is away, the rebuild waits for it (see createAndRestore).
      if (!this.options.stopping()) await this.createAndRestore(task.id);
    }
    if (failure !== undefined) throw failure;
    if (round.committed > 0) config.observer?.committed?.(round.committed, performance.now() - underWay.startedMs);
  }

  /** After a task's successful commit: tells the observer what it made durable, and the committed-store feed its writes. */
  private reportProduced(task: KafkaTask): void {
    for (const [topic, count] of task.takeProducedCounts()) this.options.config.observer?.recordsProduced?.(topic, count);
    const fed = task.feedWrites;
    if (!fed.feeds) return;
    const writes = fed.takeCommitted();
    if (fed.told && writes.length > 0) this.options.config.committedStoreFeed?.committed(task.id.key, writes);
  }

  /** Tells the committed-store feed everything the task's fed stores hold as it starts running (restored: committed). */
  private async feedStarted(task: KafkaTask): Promise<void> {
    const feed = this.options.config.committedStoreFeed;
    if (feed === undefined || !task.feedWrites.feeds) return;
    const contents: FedWrite[] = [];
    for (const store of feed.storeNames) {
      const held = task.stream.stores.get(store) as unknown as ReadOnlyKeyValueStore<unknown> | undefined;
      if (held === undefined) continue;
      for await (const { key, value } of held.all()) contents.push({ store, key, value });
    }
    feed.taskStarted(task.id.key, contents);
    task.feedWrites.told = true;
  }

  /** The task stops running here: the feed is told before its last commit (see committed-store-feed.ts). */
  private feedStopped(task: KafkaTask): void {
    if (!task.feedWrites.told) return;
    task.feedWrites.told = false;
    this.options.config.committedStoreFeed?.taskStopped(task.id.key);
  }

  // --- closing ---

  /** Closes every task: clean (commit, checkpoints) unless `clean` is false (after a failure). */
  async closeAll(clean = true): Promise<void> {
    // After a failure nothing is waited for: the round under way may never end with the broker gone.
    if (clean) await this.finishCommits().catch((error: Error) => this.options.config.logger.warn(`the last commit round failed: ${error.message}`));
    for (const task of this.all) await this.close(task, clean);
  }

  /**
   * Suspends a task (it leaves the manager: nothing routes records to it any
   * more), then closes it. Clean, when it runs: it commits, and every store
   * writes its checkpoint. Dirty, when that fails, or when it has not run yet:
   * what the task did since its last commit is thrown away and no checkpoint
   * is written.
   */
  private async close(task: KafkaTask, clean: boolean): Promise<void> {
    const { config } = this.options;
    // A task closed before its stores are restored holds part of their changelogs: a checkpoint
    // at the changelog ends would make the next owner of this state dir trust the missing rest.
    const restoring = task.state !== 'running';
    if (restoring && clean) config.logger.info(`task ${task.id.key}: closed while restoring; no checkpoint is written, so its stores are restored again next time`);
    this.tasks.delete(task.id.key);
    this.restorer.drop(task.id);
    this.bootstrap.drop(task.id);
    task.lifecycle.moveTo('suspended');
    this.feedStopped(task);
    let committed = false;
    if (clean && !restoring) {
      try {
        await this.commitTask(task);
        await this.refreshChangelogEnds(task);
        await task.writeCheckpoints();
        committed = true;
      } catch (error) {
        config.logger.warn(error instanceof TaskMigratedError ? error.message : `task ${task.id.key}: commit on close failed: ${(error as Error).message}`);
      }
    }
    if (!committed) config.observer?.transactionAborted?.(task.id.key, clean ? 'commit on close failed' : 'closed dirty');
    // Suspended, it admits no new read; those in flight finish on open stores.
    await task.reads.drained();
    await task.close(committed);
    await this.options.creator.release(task);
    task.lifecycle.moveTo('closed');
    config.logger.info(`task ${task.id.key}: closed ${committed ? 'clean' : 'dirty'}${committed ? ` (checkpoints ${JSON.stringify([...task.changelogEnds])})` : ''}`);
  }

  /** Commits one task, work or not (closing it). */
  private async commitTask(task: KafkaTask): Promise<void> {
    await this.finishCommits();
    if (debug) this.options.config.logger.info(`debug commit ${task.id.key} positions=${JSON.stringify([...task.positions])}`);
    if (this.eos) await commitExactlyOnce(task, this.options.config.applicationId);
    else await commitAtLeastOnce(task, this.options.consumer);
    this.reportProduced(task);
  }

  private async refreshChangelogEnds(task: KafkaTask): Promise<void> {
    for (const { topic } of task.changelogs.values()) {
      const offsets = await withRetries(`reading offsets of ${topic}`, () => this.options.admin.fetchTopicOffsets(topic));
      for (const o of offsets) if (o.partition === task.partition) task.changelogEnds.set(topic, Number(o.high));
    }
  }
}
