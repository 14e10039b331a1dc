/**
 * The commit protocol, per task.
 *
 * Exactly-once (one transaction per task and commit):
 *   1. flush the task's store caches: changelog records join its pending
 *      output, data goes to LevelDB (uncommitted until step 5);
 *   2. record source positions and stream time in the progress store;
 *   3. begin a transaction on the task's own producer (with the first chunk);
 *   4. send the output in chunks and wait until every chunk is acknowledged;
 *   5. add the source offsets (with stream time as metadata) and commit.
 * A fenced producer means another instance owns the task: the task must be
 * closed dirty. Its local state carries no valid checkpoint, so it is rebuilt
 * from the changelog the next time it is opened.
 *
 * At-least-once: steps 1–2, then the rest of the output goes out on the
 * shared idempotent producer, and once every chunk is acknowledged the
 * consumer offsets are committed.
 */
import type { Consumer } from 'kafkajs';
import { TaskMigratedError, type KafkaTask } from './kafka-task.js';

const fencingErrors = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'INVALID_PRODUCER_ID_MAPPING', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

/** True when the error (or what it wraps) says this producer was fenced by a newer one. */
export function isFencingError(error: unknown): boolean {
  for (let e = error as { type?: string; name?: string; originalError?: unknown; cause?: unknown } | undefined; e; ) {
    if (e.type !== undefined && fencingErrors.has(e.type)) return true;
    if (e.name === 'KafkaJSNonRetriableError' && /fenced|epoch/i.test(String((e as Error).message))) return true;
    e = (e.originalError ?? e.cause) as typeof e | undefined;
  }
  return false;
}

/**
 * True when the error comes from kafkajs (the broker, the network, a producer's transaction
 * state), not from the task's own processing or stores: a rebuilt task can get past it.
 */
export function isKafkaError(error: unknown): boolean {
  for (let e = error as { name?: string; originalError?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 10; depth++) {
    if (typeof e.name === 'string' && e.name.startsWith('KafkaJS')) return true;
    e = (e.originalError ?? e.cause) as typeof e | undefined;
  }
  return false;
}

export async function commitExactlyOnce(task: KafkaTask, groupId: string): Promise<void> {
  // Steps 1–2.
  await task.prepareCommit();
  await finishExactlyOnce(task, groupId);
}

/**
 * Exactly-once commits of several tasks: steps 1–2 for each task with work,
 * one after another; then steps 3–5 in waves, where tasks whose output since
 * their last commit shares no partition commit side by side. So no two open
 * transactions of this instance ever hold records of the same partition, and a
 * crash leaves at most one aborted transaction of it in any partition, which
 * kafkajs's read_committed filter handles (see task-output.ts). Results are in
 * the order of `tasks`: true when the task committed, false when it had no work.
 */
export async function commitExactlyOnceInWaves(tasks: readonly KafkaTask[], groupId: string): Promise<PromiseSettledResult<boolean>[]> {
  const results: PromiseSettledResult<boolean>[] = tasks.map(() => ({ status: 'fulfilled', value: false }));
  let waiting: KafkaTask[] = [];
  for (const [index, task] of tasks.entries()) {
    if (!task.hasWork) continue;
    try {
      await task.prepareCommit();
      waiting.push(task);
    } catch (reason) {
      results[index] = { status: 'rejected', reason };
    }
  }
  while (waiting.length > 0) {
    const wave: KafkaTask[] = [];
    for (const task of waiting) if (wave.every((other) => !other.output.overlaps(task.output))) wave.push(task);
    waiting = waiting.filter((task) => !wave.includes(task));
    const settled = await Promise.allSettled(wave.map((task) => finishExactlyOnce(task, groupId)));
    settled.forEach((outcome, k) => {
      results[tasks.indexOf(wave[k] as KafkaTask)] = outcome.status === 'fulfilled' ? { status: 'fulfilled', value: true } : outcome;
    });
  }
  return results;
}

/** Steps 3–5 of an exactly-once commit, after `prepareCommit()`. */
async function finishExactlyOnce(task: KafkaTask, groupId: string): Promise<void> {
  const transaction = task.transaction;
  if (transaction === undefined) throw new Error(`task ${task.id.key} has no transactional producer`);
  const topics = task.offsetsToCommit();
  try {
    // Steps 3–4: the transaction begins with the first chunk.
    await task.output.drain();
    // Step 5.
    await transaction.commit({ consumerGroupId: groupId, topics });
  } catch (error) {
    if (isFencingError(error)) throw new TaskMigratedError(task.id, error);
    await task.output.settle();
    await transaction.abort();
    throw error;
  }
}

export async function commitAtLeastOnce(task: KafkaTask, consumer: Consumer): Promise<void> {
  await task.prepareCommit();
  const offsets = task.offsetsToCommit();
  await task.output.drain();
  if (offsets.length > 0) {
    await consumer.commitOffsets(offsets.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: p.offset, metadata: p.metadata }))));
  }
}

/** What one round of commits did. */
export interface CommitRound {
  /** Tasks that had work and committed it. */
  readonly committed: number;
  /** Each task whose commit failed, with why, in the order of the tasks given. */
  readonly failed: readonly { readonly task: KafkaTask; readonly error: unknown }[];
}

export interface CommitRoundOptions {
  readonly exactlyOnce: boolean;
  readonly groupId: string;
  /** At-least-once commits the group's offsets through it. */
  readonly consumer: Consumer;
  /** Told after each task's successful commit (what it produced is durable now). */
  readonly committedTask: (task: KafkaTask) => void;
}

/**
 * Commits every task of `tasks` that has work. Under at-least-once side by
 * side (no transactions: one task's round trips to the broker need not wait
 * for another's); under exactly-once in waves of tasks whose output shares no
 * partition, so that no partition ever holds two open transactions of this
 * instance (see commitExactlyOnceInWaves and task-output.ts for why). What to
 * do about a failure is the caller's business.
 */
export async function commitRound(tasks: readonly KafkaTask[], options: CommitRoundOptions): Promise<CommitRound> {
  const outcomes = options.exactlyOnce
    ? await commitExactlyOnceInWaves(tasks, options.groupId)
    : await Promise.allSettled(
        tasks.map(async (task) => {
          if (!task.hasWork) return false;
          await commitAtLeastOnce(task, options.consumer);
          return true;
        }),
      );
  let committed = 0;
  const failed: { task: KafkaTask; error: unknown }[] = [];
  for (const [index, outcome] of outcomes.entries()) {
    const task = tasks[index] as KafkaTask;
    if (outcome.status === 'rejected') failed.push({ task, error: outcome.reason });
    else if (outcome.value) {
      committed++;
      options.committedTask(task);
    }
  }
  return { committed, failed };
}
