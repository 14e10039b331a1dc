/**
 * Interactive reads of the stores of this instance's running tasks,
 * without the app's serial queue: see task-reads.ts for why that is safe.
 *
 * Consistency: a read sees every record its task has processed, committed or
 * not (as Kafka Streams' interactive queries, which read through the cache).
 * Under exactly-once, a transaction that aborts afterwards takes back what such
 * a read saw: the task is rebuilt from its changelogs and processes those
 * records again.
 */
import type { LocalStore } from './app-observer.js';
import type { KafkaTask } from './kafka-task.js';

/**
 * Runs `read` with `storeName` of every task of `tasks()` that runs now.
 * The tasks are chosen, and `read` is called, in one synchronous step after
 * any exclusive work of theirs has ended: a task a rebalance is closing is
 * never handed to `read`, and its stores stay open until `read` settles.
 */
export async function readRunningStores<S, T>(tasks: () => readonly KafkaTask[], storeName: string, read: (stores: readonly LocalStore<S>[]) => Promise<T>): Promise<T> {
  for (;;) {
    const held = holding(tasks(), storeName).filter((task) => task.reads.isExclusive);
    if (held.length === 0) break;
    await Promise.all(held.map((task) => task.reads.exclusiveEnded()));
  }
  const admitted = holding(tasks(), storeName);
  for (const task of admitted) task.reads.enter();
  try {
    return await read(admitted.map((task) => ({ taskId: task.id.key, partition: task.partition, store: task.stream.stores.get(storeName) as unknown as S })));
  } finally {
    for (const task of admitted) task.reads.leave();
  }
}

function holding(tasks: readonly KafkaTask[], storeName: string): KafkaTask[] {
  return tasks.filter((task) => task.state === 'running' && task.stream.stores.has(storeName));
}
