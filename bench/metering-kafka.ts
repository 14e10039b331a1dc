/**
 * End-to-end benchmark of the metering topology on a real broker: events/s
 * from the input topic through ingest, repartition, dedupe and three meters
 * to `tally-meters`, under exactly-once and at-least-once, beside the raw
 * kafkajs consume rate of the same input topic (no-op eachBatch).
 *
 *   npm run bench:metering -- --events 1000000 --subjects 10000 --duplicates 0.05 --partitions 4
 *
 * Options: --guarantees exactly_once,at_least_once; --keyed-by-subject (the
 * producer keys by subject: no repartition); --avro (Avro in the wire format,
 * against a local Apicurio Registry); --commit-interval-ms (default 100). Starts a local broker unless
 * TALLY_KAFKA_BROKERS is set. A run is timed from the moment the app is ready
 * (group joined, tasks created) until every sub-topology has committed
 * everything: the input offsets, then the repartition topic's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import kafkajs from 'kafkajs';
import { startLocalKafka } from '../cli/local-cluster/local-kafka.js';
import { startLocalRegistry, type LocalRegistry } from '../cli/local-cluster/local-registry.js';
import { buildMeteringTopology, createMeteringCounters } from '../processors/index.js';
import { connectSchemaRegistry, createIngestDecoder, registerTallySchemas } from '../processors/ingest/index.js';
import { cloudEventToAvro, parseConfig } from '../schemas/index.js';
import { createApp, type ProcessingGuarantee } from '../topology/kafka/index.js';
import { benchConfig, benchMessages, type BenchEvent, type BenchEventOptions } from './metering-events.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    subjects: { type: 'string', default: '10000' },
    duplicates: { type: 'string', default: '0.05' },
    partitions: { type: 'string', default: '4' },
    guarantees: { type: 'string', default: 'exactly_once,at_least_once' },
    'keyed-by-subject': { type: 'boolean', default: false },
    avro: { type: 'boolean', default: false },
    'commit-interval-ms': { type: 'string', default: '100' },
  },
});
const partitions = Number(args.partitions);
const commitIntervalMs = Number(args['commit-interval-ms']);
const keyedBySubject = args['keyed-by-subject'];
const nowMs = Date.now();
const input: BenchEventOptions = {
  events: Number(args.events),
  subjects: Number(args.subjects),
  duplicateShare: Number(args.duplicates),
  fromMs: Math.floor((nowMs - 40 * 60_000) / 60_000) * 60_000,
  spanMs: 30 * 60_000,
  keyBySubject: keyedBySubject,
};
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const external = process.env['TALLY_KAFKA_BROKERS'];
const local = external === undefined ? await startLocalKafka() : undefined;
const brokers = external?.split(',') ?? (local?.brokers as string[]);
const registry: LocalRegistry | undefined = args.avro ? await startLocalRegistry() : undefined;
const kafka = new kafkajs.Kafka({ clientId: 'bench', brokers, logLevel: kafkajs.logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
const run = Date.now().toString(36);
const topic = `bench-usage-${run}`;

async function createTopics(names: Record<string, number>, compact = false): Promise<void> {
  const configEntries = compact ? [{ name: 'cleanup.policy', value: 'compact' }] : [];
  await admin.createTopics({ topics: Object.entries(names).map(([t, numPartitions]) => ({ topic: t, numPartitions, configEntries })), waitForLeaders: false });
  for (;;) {
    const metadata = await admin.fetchTopicMetadata({ topics: Object.keys(names) }).catch(() => undefined);
    if (metadata?.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function produceInput(): Promise<void> {
  let encode: ((e: BenchEvent) => Promise<Buffer>) | undefined;
  if (registry !== undefined) {
    const connection = connectSchemaRegistry(registry.url);
    const [usage] = await registerTallySchemas(connection, { events: topic, meters: `${topic}-m`, billing: `${topic}-b`, late: `${topic}-l`, deadLetter: `${topic}-d`, customers: `${topic}-c` }, { include: ['usageEvent'] });
    encode = (e) => connection.client.encode(usage?.id as number, cloudEventToAvro(e));
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const started = Date.now();
  for (let i = 0; i < input.events; i += 10_000) await producer.send({ topic, messages: await benchMessages(i, 10_000, input, encode), acks: -1 });
  await producer.disconnect();
  console.log(`produced ${fmt(input.events)} ${registry === undefined ? 'JSON' : 'Avro'} records (${input.subjects} subjects, ${input.duplicateShare * 100}% duplicates) to ${partitions} partitions in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function rawConsumeRate(): Promise<number> {
  const consumer = kafka.consumer({ groupId: `bench-raw-${run}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  let started = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        if (started === 0) started = Date.now();
        seen += batch.messages.length;
        if (seen >= input.events) resolve();
      },
    });
  });
  const seconds = (Date.now() - started) / 1000;
  await consumer.disconnect();
  return input.events / seconds;
}

/**
 * How many records of `topics` the group has not committed yet. A partition
 * written transactionally ends with a commit marker, which is never
 * committed as a record: `transactional` topics count one entry less.
 */
async function uncommitted(groupId: string, topics: string[], transactional: boolean): Promise<number> {
  let behind = 0;
  for (const t of topics) {
    const ends = new Map((await admin.fetchTopicOffsets(t)).map((o) => [o.partition, Number(o.high)]));
    const committed = (await admin.fetchOffsets({ groupId, topics: [t] })).flatMap((x) => x.partitions);
    for (const [partition, high] of ends) {
      const offset = Math.max(0, Number(committed.find((c) => c.partition === partition)?.offset ?? 0));
      behind += Math.max(0, (transactional && high > 0 ? high - 1 : high) - offset);
    }
  }
  return behind;
}

/** Waits until `uncommitted()` is 0; fails when the app failed or nothing moved for `stallMs`. */
async function waitCommitted(what: string, count: () => Promise<number>, failed: () => string | undefined, stallMs = 60_000): Promise<void> {
  let last = Infinity;
  let movedAt = Date.now();
  for (;;) {
    const behind = await count();
    if (behind === 0) return;
    const failure = failed();
    if (failure !== undefined) throw new Error(`the app failed while ${what}: ${failure}`);
    if (behind < last) movedAt = Date.now();
    last = Math.min(last, behind);
    if (Date.now() - movedAt > stallMs) throw new Error(`no progress for ${stallMs / 1000} s while ${what}: ${behind} records not committed`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function pipelineRate(guarantee: ProcessingGuarantee): Promise<{ rate: number; seconds: number; startupSeconds: number; duplicates: number }> {
  const appId = `bench-metering-${guarantee.replace('_', '-')}-${run}`;
  const stateDir = await mkdtemp(join(tmpdir(), 'tally-bench-'));
  const config = parseConfig(JSON.stringify(benchConfig({ appId, stateDir, brokers, guarantee, events: topic, keyedBySubject, commitIntervalMs, ...(registry === undefined ? {} : { registryUrl: registry.url }) })), 'bench tally.yaml');
  await createTopics({ [config.topics.meters]: partitions, [config.topics.customers]: 1 }, true);
  await createTopics({ [config.topics.late]: 1, [config.topics.deadLetter]: 1 });
  const counters = createMeteringCounters();
  const topology = buildMeteringTopology(config, { decoder: createIngestDecoder(config), counters });
  const quiet = { info: () => undefined, warn: (m: string) => console.warn(`warn ${m}`), error: (m: string) => console.error(`error ${m}`) };
  const app = createApp(topology, { applicationId: appId, brokers, stateDir, processingGuarantee: guarantee, commitIntervalMs: config.app.commitIntervalMs, logger: quiet });
  const t0 = Date.now();
  await app.start();
  while (!app.ready) await new Promise((r) => setTimeout(r, 20));
  const started = Date.now();
  let failure: string | undefined;
  void app.failure.then((e) => (failure = e.message));
  // The ingest first (input offsets), then the sub-topology behind the repartition topic.
  await waitCommitted('reading the input', () => uncommitted(appId, [topic], false), () => failure);
  const repartition = `${appId}-events-by-subject-repartition`;
  if (!keyedBySubject) await waitCommitted('reading the repartition topic', () => uncommitted(appId, [repartition], guarantee === 'exactly_once'), () => failure);
  const seconds = (Date.now() - started) / 1000;
  await app.close();
  await rm(stateDir, { recursive: true, force: true });
  if (totalDead(counters) > 0) console.warn(`warning: ${totalDead(counters)} dead letters: ${JSON.stringify(counters.deadLetters)}`);
  return { rate: input.events / seconds, seconds, startupSeconds: (started - t0) / 1000, duplicates: counters.duplicates };
}

const totalDead = (c: ReturnType<typeof createMeteringCounters>) => Object.values(c.deadLetters).reduce((a, b) => a + b, 0);

try {
  await createTopics({ [topic]: partitions });
  await produceInput();
  const raw = await rawConsumeRate();
  console.log(`raw kafkajs consume (no-op eachBatch): ${fmt(raw)} events/s`);
  for (const guarantee of args.guarantees.split(',') as ProcessingGuarantee[]) {
    const { rate, seconds, startupSeconds, duplicates } = await pipelineRate(guarantee);
    const shape = `${keyedBySubject ? 'keyed by subject' : 'with repartition'}${registry === undefined ? '' : ', Avro'}, ${partitions} partitions, commit every ${commitIntervalMs} ms`;
    console.log(
      `metering, ${guarantee} (${shape}): ${fmt(rate)} events/s end to end (${seconds.toFixed(1)} s after ${startupSeconds.toFixed(1)} s start-up; ` +
        `${fmt(duplicates)} duplicates dropped) = ${(rate / raw).toFixed(2)} × raw`,
    );
  }
} finally {
  await admin.disconnect();
  await registry?.stop();
  await local?.stop();
}
