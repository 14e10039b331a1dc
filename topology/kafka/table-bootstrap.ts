/**
 * Table bootstrapping. A task that joins a stream to a table (e.g. usage to
 * the customers table) must not process the stream while its table partition
 * lags behind: after downtime, both inputs have a backlog, and kafkajs fetches
 * them in no particular order, so usage would meet a table that does not yet
 * hold the customer and be dead-lettered as unrated.
 *
 * So when a task starts processing, every table (bootstrap) source partition
 * is read up to its end offset of that moment — the last stable offset, what
 * a read_committed reader can reach — while the task's stream sources stay
 * paused. Then the streams resume. Records added to the table later are read
 * as they come, interleaved with the streams, as in Kafka Streams.
 */
import type { TaskId } from '../task-id.js';

export class TableBootstrap {
  /** Task id (its key) → physical table topic → end offset still to reach. */
  private readonly pending = new Map<string, Map<string, number>>();

  /**
   * Starts bootstrapping a task's tables from `positions` towards `ends`
   * (both by physical topic); returns true when some table has records to read first.
   */
  start(taskId: TaskId, ends: ReadonlyMap<string, number>, positions: ReadonlyMap<string, number>): boolean {
    const behind = new Map<string, number>();
    for (const [topic, end] of ends) if ((positions.get(topic) ?? 0) < end) behind.set(topic, end);
    if (behind.size === 0) return false;
    this.pending.set(taskId.key, behind);
    return true;
  }

  isBootstrapping(taskId: TaskId): boolean {
    return this.pending.has(taskId.key);
  }

  /** The end offsets a bootstrapping task still waits for (for logs). */
  remaining(taskId: TaskId): ReadonlyMap<string, number> {
    return this.pending.get(taskId.key) ?? new Map();
  }

  /** Notes a table topic's new position; returns true when this completed the task's bootstrap. */
  advance(taskId: TaskId, topic: string, position: number): boolean {
    const behind = this.pending.get(taskId.key);
    const end = behind?.get(topic);
    if (behind === undefined || end === undefined || position < end) return false;
    behind.delete(topic);
    if (behind.size > 0) return false;
    this.pending.delete(taskId.key);
    return true;
  }

  /** Forgets a task (closed or revoked). */
  drop(taskId: TaskId): void {
    this.pending.delete(taskId.key);
  }
}
