/**
 * Rebuilding a task's stores from their changelogs. For each store:
 *
 * 1. read the local checkpoint (the next changelog offset the local data
 *    already holds); a missing or invalid one, or one outside the changelog's
 *    [low, high] range (retention, truncation), means: wipe, restore from the start;
 * 2. read the changelog from there, committed records only, until the
 *    consumer's position reaches the end offset taken before restoring —
 *    judged by position, not by the last record's offset, because the end can
 *    sit past a transaction marker.
 *
 * The task's producer is initialized before planning, which fences a zombie
 * and completes its pending transaction, so nothing can still be written to
 * these changelog partitions while they are read.
 */
import type { Admin, Batch } from 'kafkajs';
import type { BytesWrite, StateStore } from '../../state/index.js';
import type { TaskId } from '../task-id.js';
import { withRetries } from './kafka-io.js';
import { checkpointMetaKey, type KafkaTask } from './kafka-task.js';

export interface ChangelogRestore {
  readonly taskId: TaskId;
  readonly storeName: string;
  readonly topic: string;
  readonly partition: number;
  readonly store: StateStore;
  readonly startOffset: number;
  /** Restoration is done when the position reaches this offset. */
  readonly endOffset: number;
  position: number;
  restoredRecords: number;
}

export type RestoreLog = (message: string) => void;

export class Restorer {
  private readonly active = new Map<string, ChangelogRestore>();

  /** Plans a task's restoration; returns the changelog partitions that still have records to read. */
  async plan(task: KafkaTask, admin: Admin, log: RestoreLog): Promise<ChangelogRestore[]> {
    const needed: ChangelogRestore[] = [];
    const offsetsByTopic = new Map<string, { low: number; high: number }>();
    for (const { topic } of task.changelogs.values()) {
      if (offsetsByTopic.has(topic)) continue;
      for (const o of await withRetries(`reading offsets of ${topic}`, () => admin.fetchTopicOffsets(topic))) {
        if (o.partition === task.partition) offsetsByTopic.set(topic, { low: Number(o.low), high: Number(o.high) });
      }
    }
    for (const [storeName, { topic, store }] of task.changelogs) {
      const { low, high } = offsetsByTopic.get(topic) ?? { low: 0, high: 0 };
      const checkpoint = parseCheckpoint(await store.readMeta(checkpointMetaKey));
      let startOffset = checkpoint ?? low;
      if (checkpoint === undefined || checkpoint < low || checkpoint > high) {
        // No trustworthy local state: rebuild it from the changelog alone.
        await store.destroy();
        await store.open();
        startOffset = low;
        log(`task ${task.id.key}: store ${storeName} has no valid checkpoint (${checkpoint ?? 'none'}; changelog ${low}..${high}); wiped, restoring from ${low}`);
      }
      task.changelogEnds.set(topic, high);
      if (startOffset >= high) continue;
      const restore: ChangelogRestore = { taskId: task.id, storeName, topic, partition: task.partition, store, startOffset, endOffset: high, position: startOffset, restoredRecords: 0 };
      this.active.set(keyOf(topic, task.partition), restore);
      needed.push(restore);
      log(`task ${task.id.key}: restoring store ${storeName} from ${topic}-${task.partition} offsets ${startOffset}..${high} (${high - startOffset} to read)`);
    }
    return needed;
  }

  lookup(topic: string, partition: number): ChangelogRestore | undefined {
    return this.active.get(keyOf(topic, partition));
  }

  /**
   * Applies one fetched batch that starts at or before the restoration's
   * position (see `follows`); records before the position were applied
   * already and are skipped (applying them again would put older values back).
   * Returns true when this changelog partition is fully restored.
   */
  async apply(restore: ChangelogRestore, batch: Batch): Promise<boolean> {
    const writes: BytesWrite[] = [];
    const messages = batch.messageReader();
    for (let message = messages.next(); message !== null; message = messages.next()) {
      const offset = Number(message.offset);
      if (offset < restore.position) continue;
      if (offset >= restore.endOffset) break;
      if (message.key !== null) writes.push({ key: message.key, value: message.value });
    }
    if (writes.length > 0) await restore.store.restore(writes);
    restore.restoredRecords += writes.length;
    return this.advance(restore, Number(batch.lastOffset()) + 1);
  }

  /**
   * True when a batch fetched from `fetchedOffset` continues the restoration:
   * it starts at or before the position. One that starts past it (fetched
   * before the restoration was sought back, e.g. for a task rebuilt from
   * scratch) would leave a gap: it must not be applied, nor move the position.
   */
  follows(restore: ChangelogRestore, fetchedOffset: number): boolean {
    return fetchedOffset <= restore.position;
  }

  /**
   * Moves the position (also for batches kafkajs consumed without handing them
   * to us: transaction markers only); returns true when the partition is done.
   */
  advance(restore: ChangelogRestore, position: number): boolean {
    restore.position = Math.max(restore.position, position);
    if (restore.position < restore.endOffset) return false;
    this.active.delete(keyOf(restore.topic, restore.partition));
    return true;
  }

  /** Records still to read for one task (an estimate: compaction leaves gaps). */
  remaining(taskId?: TaskId): number {
    let total = 0;
    for (const r of this.active.values()) if (taskId === undefined || r.taskId.equals(taskId)) total += r.endOffset - r.position;
    return total;
  }

  forTask(taskId: TaskId): ChangelogRestore[] {
    return [...this.active.values()].filter((r) => r.taskId.equals(taskId));
  }

  isRestoring(taskId: TaskId): boolean {
    for (const r of this.active.values()) if (r.taskId.equals(taskId)) return true;
    return false;
  }

  /** Forgets a task's restorations (it was revoked mid-way). */
  drop(taskId: TaskId): void {
    for (const [key, r] of this.active) if (r.taskId.equals(taskId)) this.active.delete(key);
  }
}

function keyOf(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function parseCheckpoint(bytes: Buffer | undefined): number | undefined {
  if (bytes === undefined || bytes.length === 0) return undefined;
  const value = Number(bytes.toString('utf8'));
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}
