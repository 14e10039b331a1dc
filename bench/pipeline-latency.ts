/**
 * End-to-end latency at a fixed offered load: a paced producer sends events
 * stamped with the current time at `--rates` events/s, first for
 * `--warmup-seconds` (30; not timed), then for `--seconds` (timed), while
 * a read_committed consumer tails `tally-meters` (bench/latency-load.ts, in a
 * worker thread: its work shares the machine, not the app's event loop). An
 * event's latency is the time from the start of its send until the first
 * meter record of its window whose count includes it becomes visible: the
 * issue's event-to-meter latency.
 *
 *   npm run bench:latency -- --rates 5000,20000 --seconds 30 --warmup-seconds 30 [--rating]
 *
 * Options: --subjects (10 000), --partitions (4), --guarantees, --rating
 * (rating runs too, behind metering), --keyed-by-subject (no repartition),
 * --commit-interval-ms (100). No duplicates are sent. The timed part shows
 * the steady state at the offered rate; the warm-up absorbs the app's start
 * (cold code, each producer's first transactions, and the backlog they leave)
 * and its p99 is printed apart, slice by slice (`--warmup-seconds 0` times
 * the start too). Besides the latencies, each run prints the p99 of each
 * 5-second slice of the timed part (a tail that grows slice after slice is a
 * backlog, not a steady state), and over the timed part the app's event-loop
 * utilisation, delay and CPU per event (its main thread), and its commit
 * rounds.
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
    'warmup-seconds': { type: 'string', default: '30' },
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
const warmupSeconds = Number(args['warmup-seconds']);

/** Runs the load in a worker thread; resolves with what it measured. `timed` is called when its timed part begins. */
function runLoad(options: LatencyLoadOptions, timed: () => void): Promise<LatencyLoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./latency-load.js', import.meta.url), { workerData: options });
    worker.on('message', (message: { timed?: true; result?: LatencyLoadResult; error?: string }) => {
      if (message.timed === true) return timed();
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
      // The app's figures are read over the timed part only, from the moment the warm-up ends.
      const delay = monitorEventLoopDelay({ resolution: 10 });
      let utilisationBefore = performance.eventLoopUtilization();
      let commitsBefore = { ...pipeline.commits };
      let cpuBefore = 0;
      const timed = () => {
        delay.enable();
        utilisationBefore = performance.eventLoopUtilization();
        commitsBefore = { ...pipeline.commits };
        void mainThreadCpuSeconds().then((seconds) => (cpuBefore = seconds));
      };
      const load = await runLoad({
        brokers: broker.brokers,
        eventsTopic: topic,
        metersTopic: pipeline.config.topics.meters,
        rate,
        seconds: Number(args.seconds),
        warmupSeconds,
        subjects,
        keyedBySubject: args['keyed-by-subject'],
        run,
        drainMs: 120_000,
      }, timed);
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
          (warmupSeconds > 0 ? `warm-up (${warmupSeconds} s, not timed): p99 ${Math.round(load.startupP99Ms)} ms, by 5 s ${load.startupP99BySliceMs.map((ms) => Math.round(ms)).join(', ')} ms; ` : '') +
          `timed: p99 by 5 s of sending: ${load.p99BySliceMs.map((ms) => Math.round(ms)).join(', ')} ms; app event loop ${(utilisation * 100).toFixed(0)} % busy (${cpuUsPerEvent.toFixed(1)} µs CPU per event), delay p99 ${delayP99Ms.toFixed(0)} ms, max ${(delay.max / 1e6).toFixed(0)} ms; ` +
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
        warmupSeconds > 0 ? String(Math.round(load.startupP99Ms)) : '',
        load.missing > 0 ? fmt(load.missing) : '0',
        `${(utilisation * 100).toFixed(0)} %`,
        cpuUsPerEvent.toFixed(1),
        roundMs.toFixed(0),
      ]);
    }
  }
  console.log(`\n${partitions} partitions, ${fmt(subjects)} subjects, ${args['keyed-by-subject'] ? 'input keyed by subject' : 'with repartition'}, commit every ${args['commit-interval-ms']} ms, ${warmupSeconds} s of warm-up and ${args.seconds} s timed per rate; machine after: ${machineLine()}`);
  printTable(['pipeline', 'guarantee', 'offered events/s', 'sent events/s', 'p50 ms', 'p99 ms', 'max ms', 'warm-up p99 ms (not timed)', 'not seen', 'app event loop busy', 'app µs CPU/event', 'commit round ms'], rows);
} finally {
  await broker.stop();
}
