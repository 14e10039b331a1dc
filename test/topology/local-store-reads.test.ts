/**
 * Interactive reads next to processing (topology/kafka/local-store-reads.ts
 * and task-reads.ts), with tasks reduced to what the reads look at: their
 * state, their stores and their read guard.
 */
import { describe, expect, it } from 'vitest';
import type { LocalStore } from '../../topology/kafka/app-observer.js';
import type { KafkaTask } from '../../topology/kafka/kafka-task.js';
import { readRunningStores } from '../../topology/kafka/local-store-reads.js';
import { TaskReads } from '../../topology/kafka/task-reads.js';
import type { TaskState } from '../../topology/kafka/task-state.js';
import { TaskId } from '../../topology/task-id.js';

interface FakeStore {
  readonly values: Map<string, number>;
  open: boolean;
}

interface FakeTask {
  readonly id: TaskId;
  readonly partition: number;
  state: TaskState;
  readonly stream: { readonly stores: ReadonlyMap<string, FakeStore> };
  readonly reads: TaskReads;
}

function fakeTask(partition: number, state: TaskState, storeNames: readonly string[] = ['pairs']): FakeTask {
  const stores = new Map(storeNames.map((name): [string, FakeStore] => [name, { values: new Map(), open: true }]));
  return { id: new TaskId(1, partition), partition, state, stream: { stores }, reads: new TaskReads() };
}

const asTasks = (tasks: readonly FakeTask[]) => (): KafkaTask[] => tasks as unknown as KafkaTask[];

/** What the task manager does to close a task: suspend it, wait for its reads, close its stores. */
async function closeLikeTheManager(task: FakeTask): Promise<void> {
  task.state = 'suspended';
  await task.reads.drained();
  for (const store of task.stream.stores.values()) store.open = false;
  task.state = 'closed';
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const ids = (stores: readonly LocalStore<FakeStore>[]): string[] => stores.map((s) => s.taskId);

describe('interactive reads of local stores', () => {
  it('hand the read only the tasks that run and hold the store', async () => {
    const tasks = [fakeTask(0, 'running'), fakeTask(1, 'restoring'), fakeTask(2, 'running', ['other']), fakeTask(3, 'suspended'), fakeTask(4, 'running')];
    const read = await readRunningStores(asTasks(tasks), 'pairs', async (stores: readonly LocalStore<FakeStore>[]) => ids(stores));
    expect(read).toEqual(['1_0', '1_4']);
  });

  it('keep a task that a rebalance closes mid-read open until the read ends, and hand it to no later read', async () => {
    const task = fakeTask(0, 'running');
    const midRead = deferred();
    let storeOpenAtEnd: boolean | undefined;
    const reading = readRunningStores(asTasks([task]), 'pairs', async (stores: readonly LocalStore<FakeStore>[]) => {
      await midRead.promise;
      storeOpenAtEnd = stores[0]?.store.open;
      return ids(stores);
    });
    let closed = false;
    const closing = closeLikeTheManager(task).then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBe(false);
    expect(await readRunningStores(asTasks([task]), 'pairs', async (stores: readonly LocalStore<FakeStore>[]) => ids(stores))).toEqual([]);
    midRead.resolve();
    expect(await reading).toEqual(['1_0']);
    await closing;
    expect(storeOpenAtEnd).toBe(true);
    expect(closed).toBe(true);
    expect(task.stream.stores.get('pairs')?.open).toBe(false);
  });

  it('wait for exclusive work (an asynchronous punctuator) so they never see it half done', async () => {
    const task = fakeTask(0, 'running');
    const values = task.stream.stores.get('pairs')?.values as Map<string, number>;
    values.set('a', 1).set('b', 1);
    const halfway = deferred();
    const punctuating = task.reads.exclusive(async () => {
      values.set('a', 2);
      await halfway.promise;
      values.set('b', 2);
    });
    const reading = readRunningStores(asTasks([task]), 'pairs', async (stores: readonly LocalStore<FakeStore>[]) => [...(stores[0]?.store.values.values() ?? [])]);
    await new Promise((r) => setTimeout(r, 20));
    halfway.resolve();
    await punctuating;
    expect(await reading).toEqual([2, 2]);
  });

  it('hand no task to a read that waited for exclusive work during which the task was closed', async () => {
    const task = fakeTask(0, 'running');
    const halfway = deferred();
    const punctuating = task.reads.exclusive(() => halfway.promise);
    const reading = readRunningStores(asTasks([task]), 'pairs', async (stores: readonly LocalStore<FakeStore>[]) => ids(stores));
    task.state = 'suspended';
    halfway.resolve();
    await punctuating;
    expect(await reading).toEqual([]);
  });

  it('let the close of a task go on once a read that failed has ended', async () => {
    const task = fakeTask(0, 'running');
    await expect(readRunningStores(asTasks([task]), 'pairs', async () => Promise.reject(new Error('scan failed')))).rejects.toThrow('scan failed');
    await closeLikeTheManager(task);
    expect(task.state).toBe('closed');
  });
});
