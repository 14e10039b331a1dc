/**
 * The metering (and rating) pipeline's own CPU cost, without Kafka: the same
 * topology and input as the broker benchmarks, run through the in-process
 * test driver with LevelDB stores. What is left of an event's cost on a real
 * broker beyond this is the client's (kafkajs) and the broker's. Repeatable
 * on a busy machine, so hot-path changes are measured here first.
 *
 *   npm run bench:pipeline-core -- --events 200000 --subjects 10000 --rating --commit-every 1000 --profile /tmp
 *
 * --commit-every N flushes every N input events (1 000 ≈ a 100 ms commit
 * interval at 10 000 events/s); --keyed-by-subject skips the repartition;
 * --rating adds customers and plans; --profile DIR writes a CPU profile;
 * --internal-record-format json writes store values, changelogs and
 * repartition topics as JSON (default binary), for comparing the two;
 * --ms-per-event (default 1) is the event time between two events and
 * --span-minutes (default 30) the most the input spans; --dedupe-retention
 * (default P1D) below that spreads the input over several dedupe buckets, as
 * a long-running instance has them (e.g. --ms-per-event 100 --span-minutes
 * 360 --dedupe-retention PT2H: 200 000 events over 5.6 h, four live buckets,
 * three probed per event). On
 * Linux it also prints the main thread's CPU per event apart from the other
 * threads': the main thread's is what bounds throughput.
 */
import { parseArgs } from 'node:util';
import { buildMeteringTopology, customerTableRecords } from '../processors/index.js';
import { internalRecordFormats, parseConfig, type InternalRecordFormat } from '../schemas/index.js';
import { TopologyTestDriver } from '../topology/index.js';
import { threadCpuSeconds } from './bench-kit.js';
import { startCpuProfile, summarizeProfile } from './cpu-profile.js';
import { benchConfig, benchMessages, type BenchEventOptions } from './metering-events.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    subjects: { type: 'string', default: '10000' },
    duplicates: { type: 'string', default: '0.05' },
    'commit-every': { type: 'string', default: '1000' },
    'keyed-by-subject': { type: 'boolean', default: false },
    rating: { type: 'boolean', default: false },
    profile: { type: 'string' },
    'internal-record-format': { type: 'string', default: 'binary' },
    'dedupe-retention': { type: 'string', default: 'P1D' },
    'span-minutes': { type: 'string', default: '30' },
    'ms-per-event': { type: 'string', default: '1' },
  },
});

const nowMs = Date.now();
const input: BenchEventOptions = {
  events: Number(args.events),
  subjects: Number(args.subjects),
  duplicateShare: Number(args.duplicates),
  fromMs: Math.floor((nowMs - (Number(args['span-minutes']) + 10) * 60_000) / 60_000) * 60_000,
  spanMs: Number(args['span-minutes']) * 60_000,
  msPerEvent: Number(args['ms-per-event']),
  keyBySubject: args['keyed-by-subject'],
};
console.log(`$ ${['node', ...process.argv.slice(1)].join(' ')}`);
const internalRecordFormat = args['internal-record-format'] as InternalRecordFormat;
if (!internalRecordFormats.includes(internalRecordFormat)) throw new Error(`--internal-record-format ${internalRecordFormat}: use one of ${internalRecordFormats.join(', ')}`);
const parsedConfig = parseConfig(
  JSON.stringify(
    benchConfig({
      appId: 'core',
      stateDir: '/unused',
      brokers: ['127.0.0.1:9'],
      guarantee: 'exactly_once',
      events: 'usage-events',
      keyedBySubject: input.keyBySubject,
      commitIntervalMs: 100,
      dedupeRetention: args['dedupe-retention'],
      ...(args.rating ? { ratedSubjects: input.subjects } : {}),
    }),
  ),
  'bench tally.yaml',
);
const config = { ...parsedConfig, app: { ...parsedConfig.app, internalRecordFormat } };
const topology = buildMeteringTopology(config, { wallClockMs: () => nowMs });
const records = new Map<string, number>();
const bytes = new Map<string, number>();
const driver = await TopologyTestDriver.create(topology, {
  initialWallClockMs: nowMs,
  commitEveryRecords: Number(args['commit-every']),
  retainRecords: false,
  onRecord: (r) => {
    records.set(r.topic, (records.get(r.topic) ?? 0) + 1);
    bytes.set(r.topic, (bytes.get(r.topic) ?? 0) + (r.key?.length ?? 0) + (r.value?.length ?? 0));
  },
});
if (args.rating) for (const { key, value } of customerTableRecords(config)) await driver.pipeRaw(config.topics.customers, Buffer.from(key), Buffer.from(JSON.stringify(value)));
records.clear();
bytes.clear();

const batches: { key: Buffer | null; value: Buffer | null }[][] = [];
for (let i = 0; i < input.events; i += 10_000) {
  batches.push((await benchMessages(i, 10_000, input)).map((m) => ({ key: m.key === undefined || m.key === null ? null : Buffer.from(m.key), value: m.value as Buffer })));
}
const profiler = args.profile === undefined ? undefined : await startCpuProfile();
const threadsBefore = await threadCpuSeconds();
const cpuBefore = process.cpuUsage();
const started = performance.now();
for (const batch of batches) for (const { key, value } of batch) await driver.pipeRaw(config.topics.events, key, value);
await driver.commit();
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
const threadsAfter = await threadCpuSeconds();
const profile = profiler === undefined ? undefined : await profiler.stop(`${args.profile}/pipeline-core-${Date.now().toString(36)}.cpuprofile`);
await driver.close();

const perEvent = [...records].map(([topic, n]) => `${topic} ${(n / input.events).toFixed(2)}`).join(', ');
console.log(`records written per event: ${perEvent}`);
console.log(`key + value bytes written per event: ${[...bytes].map(([topic, n]) => `${topic} ${(n / input.events).toFixed(0)}`).join(', ')}`);
console.log(
  `${args.rating ? 'metering + rating' : 'metering'}, ${input.keyBySubject ? 'keyed by subject' : 'with repartition'}, ${input.subjects} subjects, flush every ${args['commit-every']} events, internal records ${internalRecordFormat}: ` +
    `${Math.round(input.events / seconds).toLocaleString('en-US')} events/s, ${((cpu.user + cpu.system) / input.events).toFixed(1)} µs CPU per event` +
    (threadsBefore === undefined || threadsAfter === undefined
      ? ''
      : ` (main thread ${(((threadsAfter.main - threadsBefore.main) * 1e6) / input.events).toFixed(1)} µs, other threads ${(((threadsAfter.others - threadsBefore.others) * 1e6) / input.events).toFixed(1)} µs; /proc's clock ticks are 10 ms)`),
);
if (profile !== undefined) console.log(summarizeProfile(profile));
