/**
 * End-to-end benchmark on a real broker: a windowed count per user
 * (1-minute windows) under exactly-once and at-least-once, beside the raw
 * kafkajs consume rate of the same topic with a no-op handler (the ceiling
 * for this client).
 *
 *   npm run bench:kafka -- --events 1000000 --partitions 8 --users 10000
 *
 * Starts a local broker unless TALLY_KAFKA_BROKERS is set. The input is keyed
 * by user, so the topology needs no repartition; `--repartition` re-keys from
 * the value instead and measures the extra hop.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import kafkajs from 'kafkajs';
import { startLocalKafka } from '../cli/local-cluster/local-kafka.js';
import { jsonSerde, stringSerde } from '../schemas/index.js';
import { StreamsBuilder, TimeWindows, windowedKeySerde } from '../topology/index.js';
import { createApp, type ProcessingGuarantee } from '../topology/kafka/index.js';
import { rawConsumeRate } from './bench-kit.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    partitions: { type: 'string', default: '8' },
    users: { type: 'string', default: '10000' },
    guarantees: { type: 'string', default: 'exactly_once,at_least_once' },
    repartition: { type: 'boolean', default: false },
  },
});
const events = Number(args.events);
const partitions = Number(args.partitions);
const users = Number(args.users);

const external = process.env['TALLY_KAFKA_BROKERS'];
const local = external === undefined ? await startLocalKafka() : undefined;
const brokers = external?.split(',') ?? (local?.brokers as string[]);
const kafka = new kafkajs.Kafka({ clientId: 'bench', brokers, logLevel: kafkajs.logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();

const run = Date.now().toString(36);
const input = `bench-in-${run}`;
await admin.createTopics({ topics: [{ topic: input, numPartitions: partitions }], waitForLeaders: true });

async function produceInput(): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const started = Date.now();
  const baseMs = Date.UTC(2024, 0, 1);
  const batch = 10_000;
  for (let i = 0; i < events; i += batch) {
    const messages = [];
    for (let j = i; j < Math.min(events, i + batch); j++) {
      const user = `user-${(j * 7919) % users}`;
      messages.push({ key: user, value: `${user}:${j}`, timestamp: String(baseMs + Math.floor(j / 10)) });
    }
    await producer.send({ topic: input, messages, acks: -1 });
  }
  await producer.disconnect();
  console.log(`produced ${events.toLocaleString('en-US')} events to ${partitions} partitions in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function committed(groupId: string): Promise<number> {
  const offsets = await admin.fetchOffsets({ groupId, topics: [input] });
  return offsets.flatMap((t) => t.partitions).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

async function pipelineRate(guarantee: ProcessingGuarantee): Promise<{ rate: number; seconds: number }> {
  const appId = `bench-${guarantee}-${run}`;
  const output = `${appId}-out`;
  await admin.createTopics({ topics: [{ topic: output, numPartitions: partitions }, { topic: `${output}-late`, numPartitions: partitions }], waitForLeaders: true });
  const builder = new StreamsBuilder();
  let stream = builder.stream(input, { valueSerde: stringSerde });
  if (args.repartition) stream = stream.selectKey((_k, v) => v.split(':')[0] as string);
  stream
    .groupByKey()
    .windowedBy(TimeWindows.ofSize(60_000).grace(60_000))
    .count({ name: 'user-minutes', lateTopic: `${output}-late` })
    .toStream()
    .to(output, { keySerde: windowedKeySerde, valueSerde: jsonSerde<number>() });
  const stateDir = await mkdtemp(join(tmpdir(), 'tally-bench-'));
  const quiet = { info: () => undefined, warn: () => undefined, error: (m: string) => console.error(m) };
  const app = createApp(builder.build(), { applicationId: appId, brokers, stateDir, processingGuarantee: guarantee, commitIntervalMs: 100, logger: quiet });
  const started = Date.now();
  await app.start();
  let lastReportMs = Date.now();
  for (let done = await committed(appId); done < events; done = await committed(appId)) {
    if (Date.now() - lastReportMs >= 5_000) {
      process.stderr.write(`  ${guarantee}: ${done.toLocaleString('en-US')} of ${events.toLocaleString('en-US')} committed after ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
      lastReportMs = Date.now();
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const seconds = (Date.now() - started) / 1000;
  await app.close();
  await rm(stateDir, { recursive: true, force: true });
  return { rate: events / seconds, seconds };
}

try {
  await produceInput();
  const raw = await rawConsumeRate(kafka, input, events);
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  console.log(`raw kafkajs consume (no-op eachBatch): ${fmt(raw)} events/s`);
  for (const guarantee of args.guarantees.split(',') as ProcessingGuarantee[]) {
    const { rate, seconds } = await pipelineRate(guarantee);
    console.log(`windowed count, ${guarantee}${args.repartition ? ', with repartition' : ''}: ${fmt(rate)} events/s (${seconds.toFixed(1)} s, ${(rate / raw).toFixed(2)} of raw)`);
  }
} finally {
  await admin.disconnect();
  await local?.stop();
}
