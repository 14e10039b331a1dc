import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { jsonSerde, stringSerde } from '../../schemas/index.js';
import { StreamsBuilder, type Topology } from '../../topology/index.js';
import { createApp, type KafkaApp, type ProcessingGuarantee } from '../../topology/kafka/index.js';
import { brokers, createTopics, produce, readTopic, tempStateDir, uniqueName, waitFor } from './kafka-helpers.js';

const verbose = process.env['TALLY_TEST_LOG'] === '1';
const quietLogger = { info: (m: string) => verbose && console.log(m), warn: (m: string) => verbose && console.warn(m), error: (m: string) => console.error(m) };

/** Counts events per user; the key is re-selected from the value so the topology repartitions. */
function countPerUser(input: string, output: string): Topology {
  const builder = new StreamsBuilder();
  builder
    .stream(input, { valueSerde: stringSerde })
    .selectKey((_k, v) => v.split(':')[0] as string)
    .groupByKey()
    .count({ name: 'per-user' })
    .toStream()
    .to(output, { valueSerde: jsonSerde<number>() });
  return builder.build();
}

interface Scenario {
  readonly input: string;
  readonly output: string;
  readonly appId: string;
}

async function scenario(partitions = 4): Promise<Scenario> {
  const s = { input: uniqueName('in'), output: uniqueName('out'), appId: uniqueName('app') };
  await createTopics({ [s.input]: partitions, [s.output]: partitions });
  return s;
}

function events(from: number, count: number, users: number): { value: string; key: string }[] {
  return Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: `user-${(from + i) % users}:${from + i}` }));
}

function truth(all: { value: string }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of all) {
    const user = e.value.split(':')[0] as string;
    counts.set(user, (counts.get(user) ?? 0) + 1);
  }
  return counts;
}

/** Last value per key, and a check that each key's values strictly increase (no double-processing). */
async function latestCounts(topic: string): Promise<Map<string, number>> {
  const latest = new Map<string, number>();
  for (const r of await readTopic(topic)) {
    const value = JSON.parse(r.value ?? 'null') as number;
    const previous = latest.get(r.key ?? '') ?? 0;
    expect(value, `count for ${r.key} went from ${previous} to ${value}`).toBeGreaterThan(previous);
    latest.set(r.key ?? '', value);
  }
  return latest;
}

const apps: KafkaApp[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function startApp(s: Scenario, stateDir: string, guarantee: ProcessingGuarantee = 'exactly_once'): Promise<KafkaApp> {
  const app = createApp(countPerUser(s.input, s.output), {
    applicationId: s.appId,
    brokers: brokers(),
    stateDir,
    processingGuarantee: guarantee,
    commitIntervalMs: 100,
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 1_000,
    logger: quietLogger,
  });
  apps.push(app);
  await app.start();
  return app;
}

/** Waits until the app's committed output reflects every input event. */
async function waitForCounts(s: Scenario, expected: Map<string, number>): Promise<Map<string, number>> {
  let latest = new Map<string, number>();
  await waitFor(`counts in ${s.output} to reach the truth`, async () => {
    latest = await latestCounts(s.output);
    return [...expected].every(([user, n]) => latest.get(user) === n);
  }, 60_000);
  return latest;
}

async function newStateDir(): Promise<string> {
  const dir = await tempStateDir();
  dirs.push(dir);
  return dir;
}

describe.each(['exactly_once', 'at_least_once'] as const)('a topology on Kafka (%s)', (guarantee) => {
  it('counts every event exactly once across partitions and a repartition topic', async () => {
    const s = await scenario();
    const input = events(0, 400, 7);
    await produce(s.input, input);
    const app = await startApp(s, await newStateDir(), guarantee);
    await waitFor('the app to be ready', () => app.ready);
    expect(app.taskIds).toEqual(['0_0', '0_1', '0_2', '0_3', '1_0', '1_1', '1_2', '1_3']);
    const counts = await waitForCounts(s, truth(input));
    expect(counts).toEqual(truth(input));
  });
});

describe('restarting a topology on Kafka (exactly_once)', () => {
  it('continues from its state after a clean restart on the same state dir, and rebuilds it from the changelog on a wiped one', async () => {
    const s = await scenario();
    const stateDir = await newStateDir();
    const first = events(0, 200, 5);
    await produce(s.input, first);
    let app = await startApp(s, stateDir);
    await waitForCounts(s, truth(first));
    await app.close();

    const second = events(200, 150, 5);
    await produce(s.input, second);
    app = await startApp(s, stateDir);
    await waitForCounts(s, truth([...first, ...second]));
    await app.close();

    const third = events(350, 100, 5);
    await produce(s.input, third);
    app = await startApp(s, await newStateDir());
    const counts = await waitForCounts(s, truth([...first, ...second, ...third]));
    expect(counts).toEqual(truth([...first, ...second, ...third]));
  });
});
