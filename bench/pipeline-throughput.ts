/**
 * Sustained throughput of the pipeline on a real broker, end to end: events/s
 * from the input topic through ingest, dedupe and the meters (and, with
 * --rating, the customers join and rating) until every sub-topology has
 * committed everything, under each guarantee, beside the raw kafkajs consume
 * rate of the same input topic (a no-op eachBatch: the client's ceiling).
 *
 *   npm run bench:pipeline -- --events 500000 --partitions 1,4,8 --subjects 1000,100000
 *   npm run bench:metering -- --events 1000000     # metering only (issue #4)
 *
 * Options: --guarantees exactly_once,at_least_once; --keyed-by-subject (the
 * producer keys by subject: no repartition); --commit-interval-ms (default
 * 100); --duplicates (share, default 0.05); --avro (Avro input through a
 * local Apicurio Registry); --profile DIR (a CPU profile of each run).
 * Starts a local broker unless TALLY_KAFKA_BROKERS is set (then
 * TALLY_KAFKA_PID, if given, lets it report the broker's CPU time).
 *
 * Per run: events/s; the ratio to raw; Node CPU µs per event (user +
 * system of this process, which runs the app only while timed); the
 * broker's CPU µs per event when its pid is known; records the app wrote
 * per event. Timed from the app being ready until all input is committed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalRegistry, type LocalRegistry } from '../cli/local-cluster/local-registry.js';
import { totalDeadLetters } from '../processors/index.js';
import { connectSchemaRegistry, registerTallySchemas } from '../processors/ingest/index.js';
import { cloudEventToAvro } from '../schemas/index.js';
import type { ProcessingGuarantee } from '../topology/kafka/index.js';
import { commandLine, connectBroker, createTopics, fmt, machineLine, printTable, processCpuSeconds, rawConsumeRate, uncommitted, waitUntilDrained, type BenchBroker } from './bench-kit.js';
import { startCpuProfile, summarizeProfile } from './cpu-profile.js';
import { benchMessages, type BenchEvent, type BenchEventOptions } from './metering-events.js';
import { preparePipeline, startPipelineApp } from './pipeline-app.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '500000' },
    subjects: { type: 'string', default: '10000' },
    partitions: { type: 'string', default: '4' },
    duplicates: { type: 'string', default: '0.05' },
    guarantees: { type: 'string', default: 'exactly_once,at_least_once' },
    rating: { type: 'boolean', default: false },
    'keyed-by-subject': { type: 'boolean', default: false },
    'commit-interval-ms': { type: 'string', default: '100' },
    avro: { type: 'boolean', default: false },
    profile: { type: 'string' },
  },
});
const list = (text: string) => text.split(',').map((s) => Number(s.trim()));
const run = Date.now().toString(36);
const keyedBySubject = args['keyed-by-subject'];
const commitIntervalMs = Number(args['commit-interval-ms']);
const pipeline = args.rating ? 'metering + rating' : 'metering';

/** Creates `topic`, fills it with the bench input and returns the raw kafkajs consume rate of it (events/s). */
async function produceInput(broker: BenchBroker, topic: string, partitions: number, input: BenchEventOptions, registry: LocalRegistry | undefined): Promise<number> {
  await createTopics(broker.admin, { [topic]: partitions });
  let encode: ((e: BenchEvent) => Promise<Buffer>) | undefined;
  if (registry !== undefined) {
    const connection = connectSchemaRegistry(registry.url);
    const [usage] = await registerTallySchemas(connection, { events: topic, meters: `${topic}-m`, billing: `${topic}-b`, late: `${topic}-l`, deadLetter: `${topic}-d`, customers: `${topic}-c`, invoices: `${topic}-i`, entitlements: `${topic}-en`, alerts: `${topic}-al` }, { include: ['usageEvent'] });
    encode = (e) => connection.client.encode(usage?.id as number, cloudEventToAvro(e));
  }
  const producer = broker.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  // 2 000 records (~0.5 MB) per request: the broker refuses a partition's batch over 1 MB.
  for (let i = 0; i < input.events; i += 2_000) await producer.send({ topic, messages: await benchMessages(i, 2_000, input, encode), acks: -1 });
  await producer.disconnect();
  return rawConsumeRate(broker.kafka, topic, input.events);
}

/** The bench input for `subjects` subjects, from the options. */
function inputOf(subjects: number): BenchEventOptions {
  return {
    events: Number(args.events),
    subjects,
    duplicateShare: Number(args.duplicates),
    fromMs: Math.floor((Date.now() - 40 * 60_000) / 60_000) * 60_000,
    spanMs: 30 * 60_000,
    keyBySubject: keyedBySubject,
  };
}

interface RunResult {
  /** Raw kafkajs consume rate of this run's input, events/s. */
  readonly raw: number;
  readonly rate: number;
  readonly nodeCpuUsPerEvent: number;
  readonly brokerCpuUsPerEvent: number | undefined;
  readonly recordsPerEvent: number;
  readonly detail: string;
}

async function timePipeline(broker: BenchBroker, topic: string, partitions: number, subjects: number, events: number, guarantee: ProcessingGuarantee, registry: LocalRegistry | undefined): Promise<RunResult> {
  const appId = `bench-${guarantee.replace('_', '-')}-${partitions}p-${subjects}s-${run}`;
  const stateDir = await mkdtemp(join(tmpdir(), 'tally-bench-'));
  const options = {
    broker,
    appId,
    eventsTopic: topic,
    partitions,
    guarantee,
    commitIntervalMs,
    keyedBySubject,
    stateDir,
    ...(args.rating ? { ratedSubjects: subjects } : {}),
    ...(registry === undefined ? {} : { registryUrl: registry.url }),
  };
  await createTopics(broker.admin, { [topic]: partitions });
  await preparePipeline(options);
  const raw = await produceInput(broker, topic, partitions, { ...inputOf(subjects), events }, registry);
  const pipelineApp = await startPipelineApp(options);
  const profiler = args.profile === undefined ? undefined : await startCpuProfile();
  const brokerBefore = await processCpuSeconds(broker.brokerPid);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (const { topic: consumed, transactional } of pipelineApp.consumedTopics) {
    await waitUntilDrained(`reading ${consumed}`, () => uncommitted(broker.admin, appId, [consumed], transactional), pipelineApp.failure);
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const brokerAfter = await processCpuSeconds(broker.brokerPid);
  if (profiler !== undefined) console.log(summarizeProfile(await profiler.stop(join(args.profile as string, `${appId}.cpuprofile`))));
  await pipelineApp.close();
  await rm(stateDir, { recursive: true, force: true });
  if (totalDeadLetters(pipelineApp.counters) > 0) console.warn(`warning: dead letters: ${JSON.stringify(pipelineApp.counters.deadLetters)}`);
  const produced = [...pipelineApp.produced].sort((a, b) => b[1] - a[1]);
  const recordsPerEvent = produced.reduce((sum, [, n]) => sum + n, 0) / events;
  return {
    raw,
    rate: events / seconds,
    nodeCpuUsPerEvent: (cpu.user + cpu.system) / events,
    brokerCpuUsPerEvent: brokerBefore === undefined || brokerAfter === undefined ? undefined : ((brokerAfter - brokerBefore) * 1e6) / events,
    recordsPerEvent,
    detail: `${seconds.toFixed(1)} s; ${fmt(pipelineApp.commits.rounds)} commit rounds of ${(pipelineApp.commits.elapsedMs / Math.max(1, pipelineApp.commits.rounds)).toFixed(0)} ms on average; duplicates dropped ${fmt(pipelineApp.counters.duplicates)}; written per event: ${produced.map(([t, n]) => `${t} ${(n / events).toFixed(2)}`).join(', ')}`,
  };
}

console.log(`$ ${commandLine()}`);
console.log(`machine: ${machineLine()}`);
const broker = await connectBroker();
const registry = args.avro ? await startLocalRegistry() : undefined;
const rows: string[][] = [];
try {
  for (const partitions of list(args.partitions)) {
    for (const subjects of list(args.subjects)) {
      for (const guarantee of args.guarantees.split(',') as ProcessingGuarantee[]) {
        // A fresh input topic per run: with rating, the app first reads the customers with the input empty.
        const topic = `bench-usage-${guarantee.replace('_', '-')}-${partitions}p-${subjects}s-${run}`;
        const result = await timePipeline(broker, topic, partitions, subjects, Number(args.events), guarantee, registry);
        console.log(`  ${guarantee}, ${partitions} partitions, ${subjects} subjects: ${result.detail}`);
        rows.push([
          pipeline,
          String(partitions),
          fmt(subjects),
          guarantee,
          fmt(result.rate),
          fmt(result.raw),
          `${(result.rate / result.raw).toFixed(3)}×`,
          result.nodeCpuUsPerEvent.toFixed(1),
          result.brokerCpuUsPerEvent === undefined ? 'n/a' : result.brokerCpuUsPerEvent.toFixed(1),
          result.recordsPerEvent.toFixed(2),
        ]);
      }
    }
  }
  const shape = `${keyedBySubject ? 'input keyed by subject' : 'with repartition'}${registry === undefined ? '' : ', Avro'}, commit every ${commitIntervalMs} ms, ${fmt(Number(args.events))} events, ${Number(args.duplicates) * 100}% duplicates`;
  console.log(`\n${pipeline}, ${shape}; machine after: ${machineLine()}`);
  printTable(['pipeline', 'partitions', 'subjects', 'guarantee', 'events/s', 'raw consume/s', 'ratio', 'node µs CPU/event', 'broker µs CPU/event', 'records out/event'], rows);
} finally {
  await registry?.stop();
  await broker.stop();
}
