/**
 * Interactive reads on a real broker, while the app processes a steady
 * stream, commits every 20 ms (exactly-once) and a second instance joins:
 * reads do not wait for commits, never see part of a record's writes, and a
 * task the rebalance takes away stays readable until the reads in flight end.
 */
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { jsonSerde, stringSerde } from '../../schemas/index.js';
import type { KeyValue, ReadOnlyKeyValueStore, StoreSpec } from '../../state/index.js';
import { StreamsBuilder, type Topology } from '../../topology/index.js';
import { createApp, type KafkaApp, type LocalStore } from '../../topology/kafka/index.js';
import { brokers, createTopics, kafkaClient, tempStateDir, uniqueName, waitFor } from './kafka-helpers.js';

const quiet = { info: () => undefined, warn: () => undefined, error: (m: string) => console.error(m) };
const users = 16;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Each record `user:seq` writes seq under two keys of the user: a read must find them equal. */
function pairWriter(input: string): Topology {
  const builder = new StreamsBuilder();
  const pairs: StoreSpec<number> = { name: 'pairs', kind: 'keyValue', persistent: true, caching: true, logging: true, valueSerde: jsonSerde<number>() };
  builder.addStateStore(pairs as StoreSpec);
  builder.stream<string>(input, { valueSerde: stringSerde }).process<string, number>(
    () => {
      let store: { put(key: string, value: number): void };
      return {
        init(context) {
          store = context.getKeyValueStore<number>('pairs');
        },
        process(record) {
          const [user, seq] = record.value.split(':') as [string, string];
          store.put(`${user}|a`, Number(seq));
          store.put(`${user}|b`, Number(seq));
        },
      };
    },
    { name: 'pair-writer', stores: ['pairs'] },
  );
  return builder.build();
}

interface Span {
  readonly startMs: number;
  readonly endMs: number;
}

const apps: KafkaApp[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function startApp(applicationId: string, input: string, commits: Span[]): Promise<KafkaApp> {
  const stateDir = await tempStateDir();
  dirs.push(stateDir);
  const app = createApp(pairWriter(input), {
    applicationId,
    brokers: brokers(),
    stateDir,
    processingGuarantee: 'exactly_once',
    commitIntervalMs: 20,
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 500,
    logger: quiet,
    observer: {
      committed: (_tasks, elapsedMs) => {
        const endMs = performance.now();
        commits.push({ startMs: endMs - elapsedMs, endMs });
      },
    },
  });
  apps.push(app);
  await app.start();
  return app;
}

/** Sends `user:seq` records keyed by user, `perTick` every 10 ms, until `stop()`. */
async function feed(input: string, stop: () => boolean): Promise<number> {
  const producer = kafkaClient('interactive-reads-feed').producer();
  await producer.connect();
  let seq = 0;
  try {
    while (!stop()) {
      const messages = Array.from({ length: 40 }, () => {
        const user = `user-${seq % users}`;
        return { key: user, value: `${user}:${++seq}` };
      });
      await producer.send({ topic: input, messages });
      await sleep(10);
    }
  } finally {
    await producer.disconnect();
  }
  return seq;
}

interface ReadOutcome extends Span {
  /** The task that holds the user's keys, when one here does. */
  readonly taskId: string | undefined;
  /** A task handed to the read left this instance while the read ran (a rebalance closed it). */
  readonly revokedMidRead: boolean;
  readonly entries: readonly KeyValue<number>[];
}

/**
 * One user's pair, looked for in every local task's store with a pause
 * after each entry and each store, so reads are slow and back to back: they
 * overlap commits and closes, and processing goes on in the middle of a scan.
 */
async function readPair(app: KafkaApp, user: string): Promise<ReadOutcome> {
  const startMs = performance.now();
  return app.readLocalStores<ReadOnlyKeyValueStore<number>, ReadOutcome>('pairs', async (stores: readonly LocalStore<ReadOnlyKeyValueStore<number>>[]) => {
    const entries: KeyValue<number>[] = [];
    let taskId: string | undefined;
    for (const { taskId: id, store } of stores) {
      for await (const entry of store.prefixScan(`${user}|`)) {
        entries.push(entry);
        taskId = id;
        await sleep(1);
      }
      await sleep(1);
    }
    const revokedMidRead = stores.some((s) => !app.taskIds.includes(s.taskId));
    return { startMs, endMs: performance.now(), taskId, revokedMidRead, entries };
  });
}

describe('interactive reads next to processing', () => {
  it('run during commits and rebalances, and always see both writes of a record', async () => {
    const applicationId = uniqueName('interactive-reads');
    const input = uniqueName('interactive-reads-in');
    await createTopics({ [input]: 4 });
    const commits: Span[] = [];
    const app = await startApp(applicationId, input, commits);
    await waitFor('the app to run its tasks', () => app.ready && app.taskIds.length === 4, 60_000);
    let stop = false;
    const feeding = feed(input, () => stop);
    const outcomes: ReadOutcome[] = [];
    const reading = (async () => {
      for (let n = 0; !stop; n++) outcomes.push(await readPair(app, `user-${n % users}`));
    })();
    await sleep(3_000);
    const joined = await startApp(applicationId, input, []);
    await waitFor('the second instance to take tasks over', () => joined.ready && joined.taskIds.length > 0 && app.taskIds.length < 4, 60_000);
    await sleep(2_000);
    stop = true;
    await Promise.all([feeding, reading]);

    const found = outcomes.filter((o) => o.entries.length > 0);
    expect(found.length).toBeGreaterThan(100);
    const torn = found.filter((o) => o.entries.length !== 2 || o.entries[0]?.value !== o.entries[1]?.value);
    expect(torn).toEqual([]);
    const duringCommit = found.filter((read) => commits.some((commit) => commit.startMs < read.startMs && read.endMs < commit.endMs));
    expect(duringCommit.length, `of ${found.length} reads and ${commits.length} commits`).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o.revokedMidRead).length).toBeGreaterThan(0);
    // Once the rebalance has settled, this instance no longer reads the tasks it gave away.
    const last = await readPair(app, 'user-0');
    expect(last.taskId === undefined || app.taskIds.includes(last.taskId)).toBe(true);
  }, 120_000);
});
