/**
 * End-to-end latency at a fixed offered load: a paced producer sends events
 * stamped with the current time at `--rates` events/s for `--seconds`, while
 * a read_committed consumer tails `tally-meters` (bench/latency-load.ts, in a
 * worker thread: its work shares the machine, not the app's event loop). An
 * event's latency is the time from the start of its send until the first
 * meter record of its window whose count includes it becomes visible: the
 * issue's event-to-meter latency.
 *
 *   npm run bench:latency -- --rates 5000,20000 --seconds 30 [--rating]
 *
 * Options: --subjects (10 000), --partitions (4), --guarantees, --rating
 * (rating runs too, behind metering), --keyed-by-subject (no repartition),
 * --commit-interval-ms (100). No duplicates are sent. Besides the latencies,
 * each run prints the p99 of each 5-second slice of the run (a tail that
 * grows slice after slice is a backlog, not a steady state) and the p99
 * without the first slice (start-up, cold caches and JIT), the app's
 * event-loop utilisation, delay and CPU per event (its main thread), and its
 * commit rounds.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { ProcessingGuarantee } from '../topology/kafka/index.js';
import { commandLine, connectBroker, createTopics, fmt, machineLine, printTable } from './bench-kit.js';
import type { LatencyLoadOptions, LatencyLoadResult } from './latency-load.js';
import { preparePipeline, startPipelineApp } from './pipeline-app.js';

const { values: args } = parseArgs({
  options: {
    rates: { type: 'string', default: '5000,20000' },
    seconds: { type: 'string', default: '30' },
    subjects: { type: 'string', default: '10000' },
    partitions: { type: 'string', default: '4' },
    guarantees: { type: 'string', default: 'exactly_once,at_least_once' },
    rating: { type: 'boolean', default: false },
    'keyed-by-subject': { type: 'boolean', default: false },
    'commit-interval-ms': { type: 'string', default: '100' },
  },
});
const run = Date.now().toString(36);
const partitions = Number(args.partitions);
const subjects = Number(args.subjects);

/** Runs the load in a worker thread; resolves with what it measured. */
function runLoad(options: LatencyLoadOptions): Promise<LatencyLoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./latency-load.js', import.meta.url), { workerData: options });
    worker.once('message', (message: { result?: LatencyLoadResult; error?: string }) => {
      if (message.result !== undefined) resolve(message.result);
      else reject(new Error(`the load failed: ${message.error}`));
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

/** CPU seconds of this process's main thread (the app's event loop), from /proc; the load's worker and LevelDB's threads are not in it. */
async function mainThreadCpuSeconds(): Promise<number> {
  const stat = await readFile(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

console.log(`$ ${commandLine()}`);
console.log(`machine: ${machineLine()}`);
const broker = await connectBroker();
const rows: string[][] = [];
try {
  for (const guarantee of args.guarantees.split(',') as ProcessingGuarantee[]) {
    for (const rate of args.rates.split(',').map(Number)) {
      const topic = `bench-latency-${guarantee.replace('_', '-')}-${rate}-${run}`;
      await createTopics(broker.admin, { [topic]: partitions });
      const stateDir = await mkdtemp(join(tmpdir(), 'tally-bench-'));
      const options = {
        broker,
        appId: `bench-lat-${guarantee.replace('_', '-')}-${rate}-${run}`,
        eventsTopic: topic,
        partitions,
        guarantee,
        commitIntervalMs: Number(args['commit-interval-ms']),
        keyedBySubject: args['keyed-by-subject'],
        stateDir,
        ...(args.rating ? { ratedSubjects: subjects } : {}),
      };
      await preparePipeline(options);
      const pipeline = await startPipelineApp(options);
      const delay = monitorEventLoopDelay({ resolution: 10 });
      delay.enable();
      const utilisationBefore = performance.eventLoopUtilization();
      const commitsBefore = { ...pipeline.commits };
      const cpuBefore = await mainThreadCpuSeconds();
      const load = await runLoad({
        brokers: broker.brokers,
        eventsTopic: topic,
        metersTopic: pipeline.config.topics.meters,
        rate,
        seconds: Number(args.seconds),
        subjects,
        keyedBySubject: args['keyed-by-subject'],
        run,
        drainMs: 120_000,
      });
      delay.disable();
      const cpuUsPerEvent = ((await mainThreadCpuSeconds()) - cpuBefore) * 1e6 / (rate * Number(args.seconds));
      const utilisation = performance.eventLoopUtilization(utilisationBefore).utilization;
      const failure = pipeline.failure();
      await pipeline.close();
      await rm(stateDir, { recursive: true, force: true });
      if (failure !== undefined) throw new Error(`the app failed: ${failure}`);
      const sorted = load.latenciesMs;
      const rounds = pipeline.commits.rounds - commitsBefore.rounds;
      const roundMs = (pipeline.commits.elapsedMs - commitsBefore.elapsedMs) / Math.max(1, rounds);
      const delayP99Ms = delay.percentile(99) / 1e6;
      console.log(
        `  ${guarantee} at ${fmt(rate)} events/s offered (${fmt(load.sentPerSecond)} sent): ${fmt(sorted.length)} meter updates timed${load.missing > 0 ? `, ${fmt(load.missing)} never seen within 120 s` : ''}; ` +
          `p99 by 5 s of sending: ${load.p99BySliceMs.map((ms) => Math.round(ms)).join(', ')} ms; app event loop ${(utilisation * 100).toFixed(0)} % busy (${cpuUsPerEvent.toFixed(1)} µs CPU per event), delay p99 ${delayP99Ms.toFixed(0)} ms, max ${(delay.max / 1e6).toFixed(0)} ms; ` +
          `${fmt(rounds)} commit rounds of ${roundMs.toFixed(0)} ms on average`,
      );
      rows.push([
        args.rating ? 'metering + rating' : 'metering',
        guarantee,
        fmt(rate),
        fmt(load.sentPerSecond),
        String(Math.round(percentile(sorted, 50))),
        String(Math.round(percentile(sorted, 99))),
        String(Math.round(sorted[sorted.length - 1] ?? NaN)),
        String(Math.round(percentile(load.warmLatenciesMs, 99))),
        load.missing > 0 ? fmt(load.missing) : '0',
        `${(utilisation * 100).toFixed(0)} %`,
        cpuUsPerEvent.toFixed(1),
        roundMs.toFixed(0),
      ]);
    }
  }
  console.log(`\n${partitions} partitions, ${fmt(subjects)} subjects, ${args['keyed-by-subject'] ? 'input keyed by subject' : 'with repartition'}, commit every ${args['commit-interval-ms']} ms, ${args.seconds} s per rate; machine after: ${machineLine()}`);
  printTable(['pipeline', 'guarantee', 'offered events/s', 'sent events/s', 'p50 ms', 'p99 ms', 'max ms', 'p99 ms after the first 5 s', 'not seen', 'app event loop busy', 'app µs CPU/event', 'commit round ms'], rows);
} finally {
  await broker.stop();
}
