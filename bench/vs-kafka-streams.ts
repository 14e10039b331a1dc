/**
 * Tally against Kafka Streams, side by side on one local broker and one
 * input: the metering hot path written on Kafka Streams
 * (bench/kafka-streams-peer/, Java, built with Maven once and cached), then
 * `tally run`, each as a child process reading the same CloudEvents under
 * exactly-once (Kafka Streams: EOS v2, one stream thread; Tally:
 * exactly_once), commit every 100 ms, 1-minute windows, one hour of
 * allowed lateness, three meters (api_requests COUNT by route, tokens SUM,
 * seats LATEST).
 *
 *   npm run bench:vs-kafka-streams                          # 1M events, 10k subjects, 8 partitions
 *   npm run bench:vs-kafka-streams -- --subjects 100000 --runs 2
 *
 * Options: --events N (records, duplicates included; default 1 000 000);
 * --subjects N (10 000); --runs N (1); --partitions N (8); --duplicates
 * share (0.05); --hours H (event-time span, 1); --only tally or --only
 * kafka-streams (one contender, for quicker iterations); --tally-node-args
 * =ARGS (flags for the node process of `tally run`, e.g.
 * --tally-node-args=--max-semi-space-size=8); --tally-cache-max-bytes N
 * (Tally's app.cacheMaxBytes, default its own default). Starts its own broker unless
 * TALLY_KAFKA_BROKERS is set (then TALLY_KAFKA_PID gives its CPU).
 *
 * Tally runs with TALLY_MEMORY_LOG_MS=1000; the memory report it logged at
 * its largest resident set is printed after the table (where the memory goes).
 *
 * Per contender and run: events/s from its consumer group's first commit
 * to the commit of the whole input, and the seconds the last 10 % of the
 * input took to commit (a slow end counts as much as a slow middle); its
 * process's CPU (user + system, from /proc) and the broker's over the same
 * span, per event; its peak RSS (VmHWM). Then the ratio Tally / Kafka
 * Streams and the load average. After each run both meters topics are read
 * back: the final records must name every (meter, subject, group, window)
 * of the input once, with the COUNT and SUM totals of the input.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { defaultCacheDir, repoRoot } from '../cli/local-cluster/local-kafka.js';
import { commandLine, connectBroker, createTopics, fmt, machineLine, printTable } from './bench-kit.js';
import { runContender, type ContenderContext, type ContenderFigures } from './vs-kafka-streams-contender.js';
import { sideBySideMeters, writeInput, type SideBySideInput } from './vs-kafka-streams-input.js';
import { compareTotals, readMeterTotals, type MeterOutputTotals } from './vs-kafka-streams-output.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    subjects: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '1' },
    partitions: { type: 'string', default: '8' },
    duplicates: { type: 'string', default: '0.05' },
    hours: { type: 'string', default: '1' },
    only: { type: 'string' },
    'tally-node-args': { type: 'string', default: '' },
    'tally-cache-max-bytes': { type: 'string' },
  },
});

const contenderNames = ['kafka-streams', 'tally'] as const;
type ContenderName = (typeof contenderNames)[number];
if (args.only !== undefined && !contenderNames.includes(args.only as ContenderName)) {
  throw new Error(`--only ${JSON.stringify(args.only)}: give one of ${contenderNames.join(', ')}`);
}
const runs = (name: ContenderName): boolean => args.only === undefined || args.only === name;

/** Builds the peer with Maven into the cache, once per version of its sources; returns its class path. */
function buildPeer(): string {
  const sourceDir = join(repoRoot(), 'bench', 'kafka-streams-peer');
  const javaDir = join(sourceDir, 'src', 'main', 'java', 'dev', 'tally', 'bench');
  const hash = createHash('sha256');
  for (const file of [join(sourceDir, 'pom.xml'), ...readdirSync(javaDir).sort().map((f) => join(javaDir, f))]) hash.update(readFileSync(file));
  const buildDir = join(defaultCacheDir(), `kafka-streams-peer-${hash.digest('hex').slice(0, 12)}`);
  const marker = join(buildDir, '.tally-complete');
  if (!existsSync(marker)) {
    console.error(`building the Kafka Streams peer into ${buildDir} (mvn)…`);
    const mvn = spawnSync('mvn', ['-q', '-B', '-f', join(sourceDir, 'pom.xml'), 'package', 'dependency:copy-dependencies', `-Dpeer.buildDir=${buildDir}`], { encoding: 'utf8', timeout: 600_000 });
    if (mvn.status !== 0) throw new Error(`mvn failed building the Kafka Streams peer (${mvn.error?.message ?? `exit ${mvn.status}`}):\n${`${mvn.stdout}${mvn.stderr}`.slice(-3_000)}`);
    writeFileSync(marker, '');
  }
  return `${join(buildDir, 'classes')}:${join(buildDir, 'dependency', '*')}`;
}

function tallyConfig(prefix: string, brokers: readonly string[], input: string, stateDir: string): Record<string, unknown> {
  return {
    app: {
      id: `${prefix}-tally`,
      stateDir,
      processingGuarantee: 'exactly_once',
      commitIntervalMs: 100,
      ...(args['tally-cache-max-bytes'] === undefined ? {} : { cacheMaxBytes: Number(args['tally-cache-max-bytes']) }),
    },
    kafka: { brokers },
    topics: { events: input, meters: `${prefix}-tally-meters`, late: `${prefix}-tally-late`, deadLetter: `${prefix}-tally-dead`, customers: `${prefix}-tally-customers`, billing: `${prefix}-tally-billing`, invoices: `${prefix}-tally-invoices`, entitlements: `${prefix}-tally-entitlements`, alerts: `${prefix}-tally-alerts` },
    ingest: { keyedBySubject: true, allowedLateness: 'PT1H', maxFutureSkew: 'PT5M', dedupeRetention: 'P1D' },
    windows: { size: 'PT1M', retention: 'P1D' },
    meters: sideBySideMeters,
    http: { host: '127.0.0.1', port: 0 },
  };
}

interface ContenderResult {
  readonly figures: ContenderFigures;
  readonly totals: MeterOutputTotals;
}

interface RunResult {
  readonly byName: ReadonlyMap<ContenderName, ContenderResult>;
  readonly check: string;
  /** The memory report Tally logged at its largest resident set. */
  readonly tallyMemory: string | undefined;
}

/** The `memory MiB: rss=…` line of the log with the largest rss. */
function peakMemoryReport(logPath: string): string | undefined {
  let peak: { rss: number; line: string } | undefined;
  for (const line of readFileSync(logPath, 'utf8').split('\n')) {
    const rss = /memory MiB: rss=([\d.]+)/.exec(line)?.[1];
    if (rss !== undefined && (peak === undefined || Number(rss) > peak.rss)) peak = { rss: Number(rss), line: line.replace(/^info /, '') };
  }
  return peak?.line;
}

const row = (name: string, run: number, { figures: f, totals: t }: ContenderResult): string[] => [
  name,
  String(run),
  fmt(f.eventsPerSecond),
  f.seconds.toFixed(1),
  f.lastTenthSeconds.toFixed(1),
  f.appCpuUsPerEvent.toFixed(1),
  f.brokerCpuUsPerEvent?.toFixed(1) ?? 'n/a',
  fmt(f.peakRssMb),
  fmt(t.updates),
  fmt(t.finals),
];

async function main(): Promise<void> {
  const runCount = Number(args.runs);
  const input: SideBySideInput = {
    topic: `vs-ks-${Date.now().toString(36)}-in`,
    events: Number(args.events),
    subjects: Number(args.subjects),
    partitions: Number(args.partitions),
    duplicateShare: Number(args.duplicates),
    fromMs: Date.parse('2024-05-01T00:00:00Z'),
    spanMs: Number(args.hours) * 3_600_000,
  };
  console.log(commandLine());
  console.log(`before: ${machineLine()}`);
  const classPath = runs('kafka-streams') ? buildPeer() : '';
  const workDir = await mkdtemp(join(tmpdir(), 'tally-vs-ks-'));
  const broker = await connectBroker();
  const tallyBin = join(repoRoot(), 'bin', 'tally.js');
  try {
    const expected = await writeInput(broker.kafka, broker.admin, input);
    console.log(
      `input: ${fmt(input.events)} records on ${input.topic} (${input.partitions} partitions, keyed by subject), ${fmt(input.subjects)} subjects, ` +
        `${fmt(expected.duplicates)} exact duplicates, ${args.hours} h of event time; ${fmt(expected.windows)} meter windows`,
    );
    const results: RunResult[] = [];
    for (let run = 1; run <= runCount; run++) {
      const prefix = `${input.topic.slice(0, -3)}-${run}`;
      const ksTopics = { meters: `${prefix}-ks-meters`, late: `${prefix}-ks-late` };
      await createTopics(broker.admin, { [ksTopics.meters]: input.partitions }, true);
      await createTopics(broker.admin, { [ksTopics.late]: input.partitions });
      const context = (outputTopics: string[]): ContenderContext => ({ admin: broker.admin, brokerPid: broker.brokerPid, inputTopic: input.topic, outputTopics, stallMs: 180_000 });

      const byName = new Map<ContenderName, ContenderResult>();
      if (runs('kafka-streams')) {
        const ksApp = `${prefix}-ks`;
        const figures = await runContender(
          {
            name: 'kafka-streams',
            command: 'java',
            args: ['-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-cp', classPath, 'dev.tally.bench.MeteringPeer', broker.brokers.join(','), input.topic, ksTopics.meters, ksTopics.late, ksApp, join(workDir, `${ksApp}-state`)],
            groupId: ksApp,
            logPath: join(workDir, `${ksApp}.log`),
          },
          context([ksTopics.meters, ksTopics.late]),
        );
        byName.set('kafka-streams', { figures, totals: await readMeterTotals(broker.kafka, ksTopics.meters) });
      }

      let tallyMemory: string | undefined;
      if (runs('tally')) {
        const config = tallyConfig(prefix, broker.brokers, input.topic, join(workDir, `${prefix}-tally-state`));
        const configPath = join(workDir, `${prefix}-tally.yaml`);
        writeFileSync(configPath, stringify(config));
        const topics = spawnSync(process.execPath, [tallyBin, 'topics', '--config', configPath], { encoding: 'utf8', timeout: 120_000 });
        if (topics.status !== 0) throw new Error(`tally topics failed: ${topics.stderr}${topics.stdout}`);
        const tallyTopics = config['topics'] as Record<string, string>;
        const logPath = join(workDir, `${prefix}-tally.log`);
        const nodeArgs = args['tally-node-args'].split(/\s+/).filter((a) => a !== '');
        const figures = await runContender(
          { name: 'tally', command: process.execPath, args: [...nodeArgs, tallyBin, 'run', '--config', configPath], groupId: `${prefix}-tally`, logPath, env: { TALLY_MEMORY_LOG_MS: '1000' } },
          context([tallyTopics['meters'] as string, tallyTopics['late'] as string, tallyTopics['deadLetter'] as string]),
        );
        byName.set('tally', { figures, totals: await readMeterTotals(broker.kafka, tallyTopics['meters'] as string) });
        tallyMemory = peakMemoryReport(logPath);
      }

      results.push({ byName, check: compareTotals(expected, new Map([...byName].map(([name, r]) => [name, r.totals]))), tallyMemory });
      console.error(`run ${run}: ${[...byName].map(([name, r]) => `${name} ${fmt(r.figures.eventsPerSecond)}/s`).join(', ')}`);
    }

    console.log('');
    printTable(
      ['contender', 'run', 'events/s', 'seconds', 'last 10 % s', 'app µs CPU/event', 'broker µs CPU/event', 'peak RSS MB', 'updates', 'finals'],
      results.flatMap((r, i) => [...r.byName].map(([name, result]) => row(name, i + 1, result))),
    );
    console.log('');
    results.forEach((r, i) => {
      const ks = r.byName.get('kafka-streams')?.figures;
      const tally = r.byName.get('tally')?.figures;
      const ratio = ks !== undefined && tally !== undefined ? `Tally / Kafka Streams = ${(tally.eventsPerSecond / ks.eventsPerSecond).toFixed(3)}× events/s, ${(tally.appCpuUsPerEvent / ks.appCpuUsPerEvent).toFixed(1)}× app CPU per event; ` : '';
      console.log(`run ${i + 1}: ${ratio}finals ${r.check}`);
      if (r.tallyMemory !== undefined) console.log(`run ${i + 1}: tally at its largest resident set: ${r.tallyMemory}`);
    });
    if (args.only === undefined) {
      const mean = (name: ContenderName) => results.reduce((s, r) => s + (r.byName.get(name)?.figures.eventsPerSecond ?? 0), 0) / results.length;
      console.log(`ratio Tally / Kafka Streams (mean events/s over ${runCount} run(s)): ${(mean('tally') / mean('kafka-streams')).toFixed(3)}`);
    }
    console.log(`after: ${machineLine()}`);
    if (results.some((r) => r.check !== 'agree')) process.exitCode = 1;
    await rm(workDir, { recursive: true, force: true });
  } catch (error) {
    console.error(`logs and state kept in ${workDir}`);
    throw error;
  } finally {
    await broker.stop();
  }
}

// Children (the peer, tally, the broker) are guarded: a signal ends this process, and its exit hook kills them.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
