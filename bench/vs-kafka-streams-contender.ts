/**
 * One contender of the side-by-side benchmark, run as a child process: timed
 * from the first offsets its consumer group commits until it has committed
 * the whole input, with its CPU time and the broker's read from /proc over
 * the same span; then left running until its output is quiet (the wall clock
 * closes the last windows after the backlog), and stopped, bounded.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Admin } from 'kafkajs';
import { guardChild } from '../cli/local-cluster/process-guard.js';
import { processCpuSeconds, uncommitted } from './bench-kit.js';

export interface ContenderSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** The consumer group whose committed offsets on `inputTopic` say how far it is. */
  readonly groupId: string;
  /** Where the child's stdout and stderr go. */
  readonly logPath: string;
  /** Added to this process's environment for the child. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface ContenderFigures {
  readonly eventsPerSecond: number;
  readonly seconds: number;
  /**
   * Seconds from the commit that reached 90 % of the input to the one that
   * reached all of it: a slow end (partitions finishing unevenly, work that
   * holds up the last commits) shows here; at an even rate it is about a
   * ninth of `seconds`.
   */
  readonly lastTenthSeconds: number;
  /** User + system CPU of the contender's process over the timed span, per input record. */
  readonly appCpuUsPerEvent: number;
  readonly brokerCpuUsPerEvent: number | undefined;
  /** VmHWM of the contender's process, MiB. */
  readonly peakRssMb: number;
}

export interface ContenderContext {
  readonly admin: Admin;
  readonly brokerPid: number | undefined;
  readonly inputTopic: string;
  /** Topics whose end offsets stop moving once the contender has written everything. */
  readonly outputTopics: readonly string[];
  /** No progress for this long fails the run. */
  readonly stallMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  return kb === undefined ? NaN : Number(kb) / 1024;
}

async function endOffsetSum(admin: Admin, topics: readonly string[]): Promise<number> {
  let sum = 0;
  for (const topic of topics) for (const p of await admin.fetchTopicOffsets(topic)) sum += Number(p.high);
  return sum;
}

/** Sends SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
async function stopProcess(child: ReturnType<typeof spawn>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killed = await Promise.race([exited.then(() => false), sleep(graceMs).then(() => true)]);
  if (killed) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Runs `spec` on the input until committed, then until its output is quiet; stops it and returns its figures. */
export async function runContender(spec: ContenderSpec, context: ContenderContext): Promise<ContenderFigures> {
  const { admin, brokerPid, inputTopic } = context;
  const total = (await admin.fetchTopicOffsets(inputTopic)).reduce((sum, p) => sum + Number(p.high), 0);
  const log = createWriteStream(spec.logPath);
  const child = spawn(spec.command, [...spec.args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...spec.env } });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const guard = guardChild(child, { name: spec.name, exitSignal: 'SIGKILL' });
  const pid = child.pid as number;
  let exit: string | undefined;
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) exit = `${spec.name} exited (${signal ?? code}) before the end; see ${spec.logPath}`;
  });
  try {
    // 1. Time from the first commit to the last: start-up (JVM, state stores, group join) is not the contender's throughput.
    let first: { ms: number; done: number; app: number; broker: number | undefined } | undefined;
    let ninetyPercentAtMs: number | undefined;
    let movedAtMs = Date.now();
    let lastDone = -1;
    for (;;) {
      // The first look may meet the offsets topic still being created (NOT_COORDINATOR): retriable, so look again.
      const behind = await uncommitted(admin, spec.groupId, [inputTopic], false).catch((e: { retriable?: boolean }) => {
        if (e.retriable === true) return undefined;
        throw e;
      });
      if (behind === undefined) {
        await sleep(200);
        continue;
      }
      const done = total - behind;
      const nowMs = Date.now();
      if (done > 0 && first === undefined) {
        first = { ms: nowMs, done, app: (await processCpuSeconds(pid)) ?? NaN, broker: await processCpuSeconds(brokerPid) };
      }
      if (done >= 0.9 * total) ninetyPercentAtMs ??= nowMs;
      if (done >= total) break;
      if (exit !== undefined) throw new Error(exit);
      if (done > lastDone) movedAtMs = nowMs;
      lastDone = Math.max(lastDone, done);
      if (nowMs - movedAtMs > context.stallMs) throw new Error(`${spec.name}: no progress for ${context.stallMs / 1000} s at ${done} of ${total} records; see ${spec.logPath}`);
      await sleep(100);
    }
    const endMs = Date.now();
    const app = (await processCpuSeconds(pid)) ?? NaN;
    const broker = await processCpuSeconds(brokerPid);
    if (first === undefined || first.done >= total) throw new Error(`${spec.name} committed the whole input in its first commit: nothing to time, use more --events`);
    const start = first;
    const events = total - start.done;
    const seconds = (endMs - start.ms) / 1000;
    // 2. Let the wall clock close the last windows: wait until the output has not moved for 5 s (at most 2 min).
    let quietSinceMs = Date.now();
    let previous = await endOffsetSum(admin, context.outputTopics);
    while (Date.now() - quietSinceMs < 5_000 && Date.now() - endMs < 120_000) {
      await sleep(500);
      if (exit !== undefined) throw new Error(exit);
      const current = await endOffsetSum(admin, context.outputTopics);
      if (current !== previous) quietSinceMs = Date.now();
      previous = current;
    }
    const figures: ContenderFigures = {
      eventsPerSecond: events / seconds,
      seconds,
      lastTenthSeconds: (endMs - (ninetyPercentAtMs ?? endMs)) / 1000,
      appCpuUsPerEvent: ((app - start.app) * 1e6) / events,
      brokerCpuUsPerEvent: broker === undefined || start.broker === undefined ? undefined : ((broker - start.broker) * 1e6) / events,
      peakRssMb: await peakRssMb(pid),
    };
    return figures;
  } finally {
    stopping = true;
    await stopProcess(child, 30_000);
    guard.release();
    log.end();
  }
}
