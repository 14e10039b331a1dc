/**
 * What the consumer fetches, task by task. kafkajs cannot assign partitions
 * by hand, so one consumer reads sources and changelogs alike: a changelog
 * partition is resumed only while its task restores, a source partition only
 * while its task runs (only its tables while they bootstrap). Every other
 * partition of the assignment stays paused.
 */
import type { Admin, Consumer } from 'kafkajs';
import { TaskId } from '../task-id.js';
import type { Topology } from '../topology.js';
import { isConsumerRestarting } from './kafka-errors.js';
import { withRetries } from './kafka-io.js';
import type { KafkaTask, SourceProgress } from './kafka-task.js';
import type { TopicPlan } from './topics.js';

/** A changelog partition to read from `position` on. */
export interface ChangelogPosition {
  readonly topic: string;
  readonly partition: number;
  readonly position: number;
}

export class TaskPartitions {
  /** Sub-topology id → its physical source topics. */
  private readonly sourcesBySubtopology = new Map<number, string[]>();

  constructor(
    private readonly consumer: Consumer,
    private readonly plan: TopicPlan,
    private readonly topology: Topology,
  ) {
    for (const [topic, { subtopology }] of plan.sources) {
      const topics = this.sourcesBySubtopology.get(subtopology) ?? [];
      topics.push(topic);
      this.sourcesBySubtopology.set(subtopology, topics);
    }
  }

  /** The physical source topics of a task (partition `id.partition` of each). */
  sourceTopicsOf(id: TaskId): readonly string[] {
    return this.sourcesBySubtopology.get(id.subtopology) ?? [];
  }

  /** The logical source of a physical topic, undefined when the topology does not read it. */
  sourceOf(topic: string): { readonly logical: string; readonly subtopology: number } | undefined {
    return this.plan.sources.get(topic);
  }

  /** The task that reads partition `partition` of source topic `topic`. */
  taskIdOf(topic: string, partition: number): TaskId | undefined {
    const source = this.plan.sources.get(topic);
    return source === undefined ? undefined : new TaskId(source.subtopology, partition);
  }

  /** True when `physicalTopic` is a table source, read to its end before the streams (table-bootstrap.ts). */
  isTableTopic(physicalTopic: string): boolean {
    const logical = this.plan.sources.get(physicalTopic)?.logical;
    return logical !== undefined && this.topology.isBootstrapTopic(logical);
  }

  /**
   * Sets each source position of a task about to run (the restored progress,
   * else the partition's earliest offset) and seeks there; notes partitions
   * already read to their end. Returns the end offset of each table source,
   * which the task reads before its streams.
   */
  async startSources(task: KafkaTask, progress: ReadonlyMap<string, SourceProgress>, admin: Admin): Promise<Map<string, number>> {
    const sources = this.sourceTopicsOf(task.id);
    const tableEnds = new Map<string, number>();
    for (const topic of sources) {
      const offsets = await withRetries(`reading offsets of ${topic}`, () => admin.fetchTopicOffsets(topic));
      const own = offsets.find((o) => o.partition === task.partition);
      const recovered = progress.get(topic);
      if (recovered !== undefined) task.stream.recoverStreamTime(recovered.streamTimeMs);
      const start = recovered?.offset ?? Number(own?.low ?? 0);
      task.positions.set(topic, start);
      this.seek(topic, task.partition, start);
      // Partitions already read to their end (or empty) count as caught up from the start.
      if (own !== undefined) task.noteEndOffset(topic, Number(own.high), sources.length);
      // `high` is the last stable offset (kafkajs lists offsets read_committed): what the task can reach.
      if (own !== undefined && this.isTableTopic(topic)) tableEnds.set(topic, Number(own.high));
    }
    return tableEnds;
  }

  /** After an assignment: nothing reads a changelog until its task restores. */
  pauseChangelogs(): void {
    this.onConsumer((consumer) => consumer.pause([...this.plan.changelogs].map((topic) => ({ topic }))));
  }

  /** A restoring task: its sources wait; its changelogs are read from where each restoration stands. */
  restore(task: KafkaTask, changelogs: readonly ChangelogPosition[]): void {
    this.onConsumer((consumer) => consumer.pause(this.sourcePartitions(task, this.sourceTopicsOf(task.id))));
    for (const c of changelogs) {
      this.onConsumer((consumer) => consumer.seek({ topic: c.topic, partition: c.partition, offset: String(c.position) }));
      this.onConsumer((consumer) => consumer.resume([{ topic: c.topic, partitions: [c.partition] }]));
    }
  }

  /**
   * A running task kept across a rebalance: each source is sought back to the
   * task's own position (kafkajs re-reads committed offsets at a rebalance,
   * which can be stale right after a transactional commit), then resumed.
   */
  putBack(task: KafkaTask, bootstrapping: boolean): void {
    for (const [topic, offset] of task.positions) this.seek(topic, task.partition, offset);
    this.resumeSources(task, bootstrapping);
  }

  /** Resumes a running task's sources: only its tables while they bootstrap, else all. */
  resumeSources(task: KafkaTask, bootstrapping: boolean): void {
    const sources = this.sourceTopicsOf(task.id);
    const [resume, hold] = bootstrapping ? [sources.filter((t) => this.isTableTopic(t)), sources.filter((t) => !this.isTableTopic(t))] : [sources, []];
    if (hold.length > 0) this.onConsumer((consumer) => consumer.pause(this.sourcePartitions(task, hold)));
    this.onConsumer((consumer) => consumer.resume(this.sourcePartitions(task, resume)));
  }

  pause(topic: string, partition: number): void {
    this.onConsumer((consumer) => consumer.pause([{ topic, partitions: [partition] }]));
  }

  seek(topic: string, partition: number, offset: number | string): void {
    this.onConsumer((consumer) => consumer.seek({ topic, partition, offset: String(offset) }));
  }

  /**
   * Pauses, resumes or seeks. Between a consumer's crash and its restart
   * kafkajs has no group and refuses all three; the change is skipped, since
   * the restarted consumer's join re-applies every task's pauses and
   * positions (`TaskManager.handleAssignment`).
   */
  private onConsumer(change: (consumer: Consumer) => void): void {
    try {
      change(this.consumer);
    } catch (error) {
      if (!isConsumerRestarting(error)) throw error;
    }
  }

  private sourcePartitions(task: KafkaTask, topics: readonly string[]): { topic: string; partitions: number[] }[] {
    return topics.map((topic) => ({ topic, partitions: [task.partition] }));
  }
}
