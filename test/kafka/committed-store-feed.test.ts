/**
 * The committed-store feed on a real broker: a replica built from what the
 * feed tells (each task's contents as it starts, each commit's writes, its
 * stop) holds what the app's stores hold once they are committed — deletes
 * included — and an app that starts again on the same state is told the
 * contents it restored.
 */
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { jsonSerde, stringSerde } from '../../schemas/index.js';
import type { ReadOnlyKeyValueStore, StoreSpec } from '../../state/index.js';
import { StreamsBuilder, type Topology } from '../../topology/index.js';
import { createApp, type CommittedStoreFeed, type FedWrite, type KafkaApp, type LocalStore } from '../../topology/kafka/index.js';
import { brokers, createTopics, produce, tempStateDir, uniqueName, waitFor } from './kafka-helpers.js';

const quiet = { info: () => undefined, warn: () => undefined, error: (m: string) => console.error(m) };

/** `user:n` adds n to the user's total in `totals`; `user:del` deletes it. `seen` counts records (not fed). */
function totals(input: string): Topology {
  const builder = new StreamsBuilder();
  for (const name of ['totals', 'seen']) {
    builder.addStateStore({ name, kind: 'keyValue', persistent: true, caching: true, logging: true, valueSerde: jsonSerde<number>() } as StoreSpec);
  }
  builder.stream<string>(input, { valueSerde: stringSerde }).process<string, number>(
    () => {
      let total: { get(key: string): number | undefined; put(key: string, value: number): void; delete(key: string): void };
      let seen: typeof total;
      return {
        init(context) {
          total = context.getKeyValueStore<number>('totals');
          seen = context.getKeyValueStore<number>('seen');
        },
        process(record) {
          const [user, amount] = record.value.split(':') as [string, string];
          seen.put(user, (seen.get(user) ?? 0) + 1);
          if (amount === 'del') total.delete(user);
          else total.put(user, (total.get(user) ?? 0) + Number(amount));
        },
      };
    },
    { name: 'totals', stores: ['totals', 'seen'] },
  );
  return builder.build();
}

type Told = { readonly kind: 'started' | 'committed' | 'stopped'; readonly taskId: string; readonly writes: readonly FedWrite[] };

/** A replica as a reader would keep it: per running task, key → value. */
class Replica implements CommittedStoreFeed {
  readonly storeNames = ['totals'];
  readonly told: Told[] = [];
  readonly tasks = new Map<string, Map<string, unknown>>();

  taskStarted(taskId: string, contents: readonly FedWrite[]): void {
    this.told.push({ kind: 'started', taskId, writes: contents });
    this.tasks.set(taskId, new Map(contents.map((w) => [w.key, w.value])));
  }

  committed(taskId: string, writes: readonly FedWrite[]): void {
    this.told.push({ kind: 'committed', taskId, writes });
    const task = this.tasks.get(taskId);
    if (task === undefined) throw new Error(`a commit of ${taskId} was told before it started`);
    for (const w of writes) {
      if (w.value === undefined) task.delete(w.key);
      else task.set(w.key, w.value);
    }
  }

  taskStopped(taskId: string): void {
    this.told.push({ kind: 'stopped', taskId, writes: [] });
    this.tasks.delete(taskId);
  }

  contents(): Record<string, unknown> {
    return Object.fromEntries([...this.tasks.values()].flatMap((task) => [...task]).sort(([a], [b]) => (a < b ? -1 : 1)));
  }
}

async function storeContents(app: KafkaApp): Promise<Record<string, unknown>> {
  return app.readLocalStores<ReadOnlyKeyValueStore<number>, Record<string, unknown>>('totals', async (stores: readonly LocalStore<ReadOnlyKeyValueStore<number>>[]) => {
    const entries: [string, unknown][] = [];
    for (const { store } of stores) for await (const { key, value } of store.all()) entries.push([key, value]);
    return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : 1)));
  });
}

const apps: KafkaApp[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function startApp(applicationId: string, input: string, stateDir: string, feed: Replica, guarantee: 'exactly_once' | 'at_least_once'): Promise<KafkaApp> {
  const app = createApp(totals(input), {
    applicationId,
    brokers: brokers(),
    stateDir,
    processingGuarantee: guarantee,
    commitIntervalMs: 50,
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 500,
    logger: quiet,
    committedStoreFeed: feed,
  });
  apps.push(app);
  await app.start();
  return app;
}

describe.each(['exactly_once', 'at_least_once'] as const)('the committed-store feed (%s)', (guarantee) => {
  it('tells what the stores hold once committed, deletes included, and a restarted app what it restored', async () => {
    const applicationId = uniqueName('store-feed');
    const input = uniqueName('store-feed-in');
    await createTopics({ [input]: 3 });
    const stateDir = await tempStateDir();
    dirs.push(stateDir);
    const replica = new Replica();
    const app = await startApp(applicationId, input, stateDir, replica, guarantee);
    await waitFor('the app to run its tasks', () => app.ready && app.taskIds.length === 3, 60_000);
    expect(replica.told.filter((t) => t.kind === 'started').map((t) => [t.taskId, t.writes])).toEqual(app.taskIds.map((id) => [id, []]).sort());

    const users = Array.from({ length: 12 }, (_, i) => `user-${i}`);
    for (let round = 1; round <= 3; round++) await produce(input, users.map((user) => ({ key: user, value: `${user}:${round}` })));
    await produce(input, ['user-0', 'user-5'].map((user) => ({ key: user, value: `${user}:del` })));
    const expected = Object.fromEntries(users.filter((u) => u !== 'user-0' && u !== 'user-5').sort().map((u) => [u, 6]));
    await waitFor('the replica to hold every committed total', () => JSON.stringify(replica.contents()) === JSON.stringify(expected), 30_000);
    expect(await storeContents(app)).toEqual(expected);
    // Only the fed store is told, and a delete as a write without a value.
    const writes = replica.told.flatMap((t) => t.writes);
    expect(new Set(writes.map((w) => w.store))).toEqual(new Set(['totals']));
    expect(writes.filter((w) => w.value === undefined).map((w) => w.key).sort()).toEqual(['user-0', 'user-5']);

    await app.close();
    const stops = replica.told.filter((t) => t.kind === 'stopped').map((t) => t.taskId);
    expect(stops.sort()).toEqual(['0_0', '0_1', '0_2']);
    // Nothing of a task is told after its stop.
    for (const id of stops) expect(replica.told.findIndex((t) => t.taskId === id && t.kind === 'stopped')).toBe(replica.told.map((t) => t.taskId).lastIndexOf(id));

    const again = new Replica();
    const restarted = await startApp(applicationId, input, stateDir, again, guarantee);
    await waitFor('the restarted app to run its tasks', () => restarted.ready && restarted.taskIds.length === 3, 60_000);
    expect(again.told.every((t) => t.kind === 'started')).toBe(true);
    expect(again.contents()).toEqual(expected);
  }, 120_000);
});
