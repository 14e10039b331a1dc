/**
 * What the broker benchmarks share: a broker (local unless
 * TALLY_KAFKA_BROKERS is set), topic set-up, producing the bench input, the
 * raw kafkajs consume rate (the ceiling), waiting until an app has committed
 * everything, and the machine's state (cores, load) printed beside every
 * figure, because this machine is shared and figures move with its load.
 */
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import kafkajs, { type Admin, type Kafka } from 'kafkajs';
import { startLocalKafka, type LocalKafka } from '../cli/local-cluster/local-kafka.js';

export interface BenchBroker {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly brokers: string[];
  /** The broker's process id when known (a local broker, or TALLY_KAFKA_PID), to read its CPU time. */
  readonly brokerPid: number | undefined;
  stop(): Promise<void>;
}

/** The command line that ran this benchmark, as one line to copy. */
export function commandLine(): string {
  return ['node', ...process.argv.slice(1).map((arg) => arg.replace(`${process.cwd()}/`, ''))].join(' ');
}

/** Cores, load averages and Node version, for the report. */
export function machineLine(): string {
  const [one, five, fifteen] = os.loadavg().map((n) => n.toFixed(2));
  return `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), load average ${one} ${five} ${fifteen}, node ${process.version}`;
}

export async function connectBroker(): Promise<BenchBroker> {
  const external = process.env['TALLY_KAFKA_BROKERS'];
  const local: LocalKafka | undefined = external === undefined ? await startLocalKafka() : undefined;
  const brokers = external?.split(',') ?? (local?.brokers as string[]);
  const kafka = new kafkajs.Kafka({ clientId: 'bench', brokers, logLevel: kafkajs.logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const pidText = process.env['TALLY_KAFKA_PID'];
  return {
    kafka,
    admin,
    brokers,
    brokerPid: local?.pid ?? (pidText === undefined ? undefined : Number(pidText)),
    async stop() {
      await admin.disconnect();
      await local?.stop();
    },
  };
}

export async function createTopics(admin: Admin, partitionsByTopic: Record<string, number>, compact = false): Promise<void> {
  const configEntries = compact ? [{ name: 'cleanup.policy', value: 'compact' }] : [];
  await admin.createTopics({ topics: Object.entries(partitionsByTopic).map(([topic, numPartitions]) => ({ topic, numPartitions, configEntries })), waitForLeaders: false });
  for (;;) {
    const metadata = await admin.fetchTopicMetadata({ topics: Object.keys(partitionsByTopic) }).catch(() => undefined);
    if (metadata?.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Raw kafkajs: a consumer group reading `count` records of `topic` with a no-op eachBatch; records/s. */
export async function rawConsumeRate(kafka: Kafka, topic: string, count: number): Promise<number> {
  const consumer = kafka.consumer({ groupId: `bench-raw-${topic}-${Date.now().toString(36)}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  let started = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        if (started === 0) started = performance.now();
        seen += batch.messages.length;
        if (seen >= count) resolve();
      },
    });
  });
  const seconds = (performance.now() - started) / 1000;
  await consumer.disconnect();
  return count / seconds;
}

/**
 * Records of `topics` that group `groupId` has not committed yet. A partition
 * written transactionally ends with a commit marker, never committed as a
 * record: `transactional` topics count one less.
 */
export async function uncommitted(admin: Admin, groupId: string, topics: readonly string[], transactional: boolean): Promise<number> {
  let behind = 0;
  for (const topic of topics) {
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
    const committed = (await admin.fetchOffsets({ groupId, topics: [topic] })).flatMap((x) => x.partitions);
    for (const [partition, high] of ends) {
      const offset = Math.max(0, Number(committed.find((c) => c.partition === partition)?.offset ?? 0));
      behind += Math.max(0, (transactional && high > 0 ? high - 1 : high) - offset);
    }
  }
  return behind;
}

/** Waits until `count()` is 0; fails when `failed()` says so or nothing moved for `stallMs`. */
export async function waitUntilDrained(what: string, count: () => Promise<number>, failed: () => string | undefined, stallMs = 120_000): Promise<void> {
  let least = Infinity;
  let movedAt = Date.now();
  for (;;) {
    const behind = await count();
    if (behind === 0) return;
    const failure = failed();
    if (failure !== undefined) throw new Error(`the app failed while ${what}: ${failure}`);
    if (behind < least) movedAt = Date.now();
    least = Math.min(least, behind);
    if (Date.now() - movedAt > stallMs) throw new Error(`no progress for ${stallMs / 1000} s while ${what}: ${behind} records not committed`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** CPU seconds (user + system) of a /proc `stat` file (a process's or a thread's); undefined when unreadable. */
async function statCpuSeconds(path: string): Promise<number | undefined> {
  const stat = await readFile(path, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticksPerSecond = 100; // USER_HZ on Linux
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** CPU seconds (user + system) a process has used so far, from /proc; undefined when unreadable. */
export async function processCpuSeconds(pid: number | undefined): Promise<number | undefined> {
  return pid === undefined ? undefined : statCpuSeconds(`/proc/${pid}/stat`);
}

/**
 * CPU seconds (user + system) this process's main thread (the JavaScript
 * thread) and all its other threads (V8's GC helpers, LevelDB's compaction,
 * libuv's pool) have used so far, from /proc/self/task; undefined when
 * unreadable (not Linux). With a backlog, throughput follows the main
 * thread's share: the others run beside it on the second core.
 */
export async function threadCpuSeconds(): Promise<{ main: number; others: number } | undefined> {
  const tasks = await readdir('/proc/self/task').catch(() => undefined);
  if (tasks === undefined) return undefined;
  let main = 0;
  let others = 0;
  for (const tid of tasks) {
    // Undefined: a thread that ended meanwhile.
    const seconds = (await statCpuSeconds(`/proc/self/task/${tid}/stat`)) ?? 0;
    if (tid === String(process.pid)) main += seconds;
    else others += seconds;
  }
  return { main, others };
}

/** Prints a table: a header row, then rows, columns padded to fit. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(line(header));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const row of rows) console.log(line(row));
}

export const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
