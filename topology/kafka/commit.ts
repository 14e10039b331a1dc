/**
 * The commit protocol, per task.
 *
 * Exactly-once (one transaction per task and commit, begun with the first
 * chunk of output the task sends after the previous commit):
 *   1. flush the task's store caches: changelog records join its output,
 *      data goes to LevelDB (uncommitted until step 5; the batches are
 *      written in the background and waited for before step 5);
 *   2. record source positions and stream time in the progress store;
 *   3. send what is left of the output (full chunks went out while the task
 *      processed);
 *   4. wait until every chunk is acknowledged;
 *   5. add the source offsets (with stream time as metadata) and commit.
 * Steps 3–5 take round trips to the broker, not CPU: the task goes on
 * processing while they run, and the records it produces meanwhile wait in
 * its output's line behind step 5, for the next transaction. The next
 * commit begins its step 1 only after this one has ended.
 * A fenced producer means another instance owns the task: the task must be
 * closed dirty. Its local state carries no valid checkpoint, so it is rebuilt
 * from the changelog the next time it is opened.
 *
 * At-least-once: steps 1–2, then the rest of the output goes out on the
 * shared idempotent producer, and once every chunk is acknowledged the
 * consumer offsets are committed.
 */
import type { Consumer } from 'kafkajs';
import { isFencingError } from './kafka-errors.js';
import { TaskMigratedError, type KafkaTask } from './kafka-task.js';
import { yieldToEventLoop } from './processing-slices.js';

export async function commitExactlyOnce(task: KafkaTask, groupId: string): Promise<void> {
  // Steps 1–2.
  await task.prepareCommit();
  await finishExactlyOnce(task, groupId, Promise.resolve());
}

/**
 * Exactly-once commits of several tasks, begun: for each task with work, one
 * after another, steps 1–2 here and steps 3–5 put in its output's line at
 * once (so that nothing it produces later joins this transaction); steps
 * 3–5 of every task then run side by side in the background, in the
 * returned promise, which never rejects. Between two tasks the event loop
 * gets a turn: a task's flush (its downstream processing included) holds the
 * loop for a few ms, and HTTP reads need not wait for all of them. The tasks
 * may process more meanwhile: each task's commit has its place in its
 * output's line (TaskOutput.endWith), so what it produces from now on goes
 * out after the commit, in its next transaction. Before a task's stores are
 * flushed again, that promise must have settled (the next round awaits it).
 *
 * Each task's transaction was open while it processed (its output goes out
 * as it is produced), so a crash can leave aborted transactions of several
 * tasks interleaved in a partition; the patched kafkajs read_committed
 * filter handles that as Kafka's Java consumer does (docs/kafkajs-patch.md).
 * Results are in the order of `tasks`: true when the task committed, false
 * when it had no work.
 */
export async function beginExactlyOnceSideBySide(tasks: readonly KafkaTask[], groupId: string): Promise<{ readonly finished: Promise<PromiseSettledResult<boolean>[]> }> {
  const results: PromiseSettledResult<boolean>[] = tasks.map(() => ({ status: 'fulfilled', value: false }));
  const finishing: Promise<void>[] = [];
  let flushed = false;
  for (const [index, task] of tasks.entries()) {
    if (!task.hasWork) continue;
    if (flushed) await yieldToEventLoop();
    flushed = true;
    let written: Promise<void>;
    try {
      // Flushed now; its LevelDB batches are written while the tasks go on processing. A failed
      // write is handled where the commit waits for it (it aborts the transaction), not as unhandled.
      written = task.prepareCommit();
      written.catch(() => undefined);
    } catch (reason) {
      results[index] = { status: 'rejected', reason };
      continue;
    }
    finishing.push(
      finishExactlyOnce(task, groupId, written).then(
        () => void (results[index] = { status: 'fulfilled', value: true }),
        (reason: unknown) => void (results[index] = { status: 'rejected', reason }),
      ),
    );
  }
  return { finished: Promise.all(finishing).then(() => results) };
}

/** Steps 3–5 of an exactly-once commit, after `prepareCommit()`; `written`: its LevelDB batches. */
async function finishExactlyOnce(task: KafkaTask, groupId: string, written: Promise<void>): Promise<void> {
  const transaction = task.transaction;
  if (transaction === undefined) throw new Error(`task ${task.id.key} has no transactional producer`);
  const topics = task.offsetsToCommit();
  try {
    // Steps 3–4: the transaction began with the first chunk (or begins now); then step 5, once
    // the stores hold what the transaction commits (a failed write aborts it).
    await task.output.endWith(async () => {
      await written;
      await transaction.commit({ consumerGroupId: groupId, topics });
    });
  } catch (error) {
    // A commit never ends with a batch still being written: the task may be closed next.
    await written.catch(() => undefined);
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
 * Commits every task of `tasks` that has work, side by side: one task's round
 * trips to the broker need not wait for another's. Resolves once the round
 * has begun; `finished` once it is over (it never rejects). Under
 * exactly-once the tasks may process in between (see
 * beginExactlyOnceSideBySide); at-least-once is over before it resolves.
 * What to do about a failure is the caller's business.
 */
export async function beginCommitRound(tasks: readonly KafkaTask[], options: CommitRoundOptions): Promise<{ readonly finished: Promise<CommitRound> }> {
  const outcomes = options.exactlyOnce
    ? (await beginExactlyOnceSideBySide(tasks, options.groupId)).finished
    : Promise.resolve(
        await Promise.allSettled(
          tasks.map(async (task) => {
            if (!task.hasWork) return false;
            await commitAtLeastOnce(task, options.consumer);
            return true;
          }),
        ),
      );
  return { finished: outcomes.then((settled) => tally(tasks, settled, options)) };
}

function tally(tasks: readonly KafkaTask[], outcomes: readonly PromiseSettledResult<boolean>[], options: CommitRoundOptions): CommitRound {
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
