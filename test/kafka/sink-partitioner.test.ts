/**
 * A sink with its own partitioner, on the real broker: the partitioner is
 * told the sink topic's real partition count (as the test driver tells it),
 * and records land where it says.
 */
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { stringSerde } from '../../schemas/index.js';
import { StreamsBuilder, type Topology } from '../../topology/index.js';
import { createApp, type KafkaApp } from '../../topology/kafka/index.js';
import { brokers, createTopics, produce, readTopic, tempStateDir, uniqueName, waitFor } from './kafka-helpers.js';

const quietLogger = { info: () => undefined, warn: () => undefined, error: (m: string) => console.error(m) };

/** Copies `input` to `output`, sending value n to partition n modulo the count the partitioner is told; notes each count. */
function byValue(input: string, output: string, countsSeen: number[]): Topology {
  const builder = new StreamsBuilder();
  builder.stream(input, { valueSerde: stringSerde }).to(output, {
    valueSerde: stringSerde,
    partitioner: (_key, value, partitionCount) => {
      countsSeen.push(partitionCount);
      return Number(value) % partitionCount;
    },
  });
  return builder.build();
}

const apps: KafkaApp[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function startApp(topology: Topology, guarantee: 'exactly_once' | 'at_least_once'): Promise<KafkaApp> {
  const stateDir = await tempStateDir();
  dirs.push(stateDir);
  const app = createApp(topology, { applicationId: uniqueName('partitioner-app'), brokers: brokers(), stateDir, processingGuarantee: guarantee, commitIntervalMs: 100, logger: quietLogger });
  apps.push(app);
  await app.start();
  return app;
}

describe.each(['exactly_once', 'at_least_once'] as const)('a sink with a custom partitioner on Kafka (%s)', (guarantee) => {
  it("is told the sink topic's partition count and puts each record on the partition it chooses", async () => {
    const input = uniqueName('partitioner-in');
    const output = uniqueName('partitioner-out');
    await createTopics({ [input]: 2, [output]: 5 });
    const values = Array.from({ length: 20 }, (_, n) => String(n));
    await produce(input, values.map((value) => ({ key: `k${value}`, value })));
    const countsSeen: number[] = [];
    const app = await startApp(byValue(input, output, countsSeen), guarantee);
    let failure: Error | undefined;
    void app.failure.then((error) => (failure = error));
    let records: Awaited<ReturnType<typeof readTopic>> = [];
    await waitFor(`all 20 records in ${output}`, async () => {
      if (failure !== undefined) throw failure;
      return (records = await readTopic(output)).length >= values.length;
    }, 30_000);
    expect(countsSeen.length).toBeGreaterThanOrEqual(values.length);
    expect(new Set(countsSeen)).toEqual(new Set([5]));
    expect(records.map((r) => [r.value, r.partition]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual(values.map((value) => [value, Number(value) % 5]));
  });
});

describe('a sink with a custom partitioner whose topic does not exist', () => {
  it('stops the app at start, naming the topic', async () => {
    const input = uniqueName('partitioner-in');
    const output = uniqueName('partitioner-missing');
    await createTopics({ [input]: 1 });
    await expect(startApp(byValue(input, output, []), 'at_least_once')).rejects.toThrow(`sink topic(s) "${output}" do not exist, and a custom partitioner needs their partition count`);
  });
});
