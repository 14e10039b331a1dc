/**
 * `GET /v1/customers/{id}/entitlements/{key}` latency on a loaded instance:
 * one service (exactly-once, rating and entitlements on) takes a paced stream
 * of usage events at `--rate` events/s for the whole run, while `--clients`
 * concurrent HTTP clients ask for random customers' entitlement for
 * `--seconds` seconds (after `--warmup-seconds` of load alone, so every
 * customer has stored usage). Prints p50, p99 and max latency of the answers
 * (all must be 200), the request rate, and how late the event loop ran
 * meanwhile (p99 and max of perf_hooks' monitorEventLoopDelay) and the
 * longest garbage-collection pause: the service, its load and its clients
 * share this process, so no answer can come sooner than the loop lets it.
 *
 *   npm run bench:entitlements -- --rate 2000 --seconds 20 --clients 4
 *
 * The usage stream is produced from a worker thread of its own, as an
 * application beside the service would produce it.
 *
 * Options: --subjects (2000; ten per customer), --partitions (4),
 * --clients-in-worker (the clients run in a worker thread, with an event
 * loop of their own, as real callers would: what is left is the service's),
 * --request-rate (requests/s per client on a schedule; default 0: back to
 * back). Paced, each answer is also measured from its scheduled time ("p99
 * from schedule"), so a stall counts in full for every request it held back
 * (no coordinated omission) — the client's own timer lateness included.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import kafkajs from 'kafkajs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { customerTableRecords } from '../processors/index.js';
import { parseConfig, type TallyConfig } from '../schemas/index.js';
import { startService, type TallyService } from '../service/index.js';
import { ensureTopics } from '../service/topics/index.js';
import { commandLine, connectBroker, fmt, machineLine, printTable, type BenchBroker } from './bench-kit.js';
import { benchConfig, benchEvent, subjectsPerCustomer } from './metering-events.js';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '20' },
    'warmup-seconds': { type: 'string', default: '10' },
    clients: { type: 'string', default: '4' },
    subjects: { type: 'string', default: '2000' },
    partitions: { type: 'string', default: '4' },
    'clients-in-worker': { type: 'boolean', default: false },
    'request-rate': { type: 'string', default: '0' },
  },
});
const rate = Number(args.rate);
const requestRate = Number(args['request-rate']);
const subjects = Number(args.subjects);
const customers = Math.ceil(subjects / subjectsPerCustomer);
const token = 'bench-token';
const entitlement = { key: 'tokens-monthly', meter: 'tokens', limit: '100000000', alerts: [50, 100] };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function entitlementConfig(broker: BenchBroker, stateDir: string): TallyConfig {
  const appId = `bench-entitlements-${Date.now().toString(36)}`;
  const document = benchConfig({ appId, stateDir, brokers: broker.brokers, guarantee: 'exactly_once', events: `${appId}-events`, keyedBySubject: false, commitIntervalMs: 100, ratedSubjects: subjects });
  const withEntitlements = (document['customers'] as Record<string, unknown>[]).map((c) => ({ ...c, entitlements: [entitlement] }));
  return parseConfig(JSON.stringify({ ...document, customers: withEntitlements, http: { host: '127.0.0.1', port: 0, tokens: [token] } }), 'bench tally.yaml');
}

interface LoadTask {
  readonly role: 'load';
  readonly brokers: string[];
  readonly topic: string;
  readonly rate: number;
  readonly subjects: number;
}

/** Sends usage at `rate` events/s (stamped now) until `stop` says so; returns how many were sent. */
async function feedLoad(task: LoadTask, stop: () => boolean): Promise<number> {
  const kafka = new kafkajs.Kafka({ clientId: 'bench-load', brokers: task.brokers, logLevel: kafkajs.logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  let sent = 0;
  try {
    for (let tick = Date.now(); !stop(); tick += 100) {
      const batch = Array.from({ length: Math.max(1, Math.round(task.rate / 10)) }, () => {
        const event = benchEvent(sent++, { subjects: task.subjects, fromMs: Date.now() - 1_000, spanMs: 1 });
        return { key: event.id, value: JSON.stringify(event) };
      });
      await producer.send({ topic: task.topic, messages: batch });
      await sleep(Math.max(0, tick + 100 - Date.now()));
    }
  } finally {
    await producer.disconnect();
  }
  return sent;
}

/** Runs the usage stream in a worker thread until `stop()` resolves it; resolves with how many events were sent. */
function loadInWorker(task: LoadTask): { stop(): Promise<number> } {
  const worker = new Worker(new URL(import.meta.url), { workerData: task });
  const sent = new Promise<number>((resolve, reject) => {
    worker.once('message', (count: number) => resolve(count));
    worker.once('error', reject);
  });
  return {
    stop: () => {
      worker.postMessage('stop');
      return sent;
    },
  };
}

/** One client: random customers, one request at a time, until `untilMs`: on a schedule of `requestRate` per second, or back to back (0). */
async function queryClient(serviceUrl: string, untilMs: number, requestRate: number, measured: Measured): Promise<void> {
  // One kept-alive connection per client, through node:http: fetch costs the client several times the CPU, on the same two cores.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const intervalMs = requestRate > 0 ? 1_000 / requestRate : 0;
  let scheduled = performance.now() + Math.random() * intervalMs;
  while (Date.now() < untilMs) {
    if (intervalMs > 0) await sleep(scheduled - performance.now());
    const id = `account-${Math.floor(Math.random() * customers)}`;
    const sentMs = performance.now();
    const answer = await get(agent, `${serviceUrl}/v1/customers/${id}/entitlements/${entitlement.key}`);
    const answeredMs = performance.now();
    measured.fromSendMs.push(answeredMs - sentMs);
    if (intervalMs > 0) measured.fromScheduleMs.push(answeredMs - scheduled);
    if (answer.status !== 200) measured.failures.push(`${id}: ${answer.status} ${answer.body.slice(0, 200)}`);
    scheduled += intervalMs;
  }
  agent.destroy();
}

function get(agent: Agent, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpGet(url, { agent, headers: { authorization: `Bearer ${token}` } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function main(): Promise<void> {
  console.log(commandLine());
  console.log(machineLine());
  const broker = await connectBroker();
  const stateDir = await mkdtemp(join(tmpdir(), 'tally-bench-entitlements-'));
  let load: { stop(): Promise<number> } | undefined;
  try {
    const config = entitlementConfig(broker, stateDir);
    await ensureTopics(config, { create: true, partitions: Number(args.partitions) });
    const seeder = broker.kafka.producer();
    await seeder.connect();
    await seeder.send({ topic: config.topics.customers, messages: customerTableRecords(config).map(({ key, value }) => ({ key, value: JSON.stringify(value) })) });
    await seeder.disconnect();
    const service = await startService(config, { logger: { info: () => undefined, warn: (m) => console.error(m), error: (m) => console.error(m) } });
    try {
      await service.ready;
      load = loadInWorker({ role: 'load', brokers: broker.brokers, topic: config.topics.events, rate, subjects });
      await sleep(Number(args['warmup-seconds']) * 1_000);
      const measured: Measured = { fromSendMs: [], fromScheduleMs: [], failures: [] };
      const loopDelay = monitorEventLoopDelay({ resolution: 1 });
      loopDelay.enable();
      let gcMaxMs = 0;
      const gcPauses = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) gcMaxMs = Math.max(gcMaxMs, entry.duration);
      });
      gcPauses.observe({ entryTypes: ['gc'] });
      const startedMs = Date.now();
      const untilMs = startedMs + Number(args.seconds) * 1_000;
      if (args['clients-in-worker']) {
        const answer = await clientsInWorker({ role: 'clients', serviceUrl: service.url, untilMs, clients: Number(args.clients), requestRate });
        measured.fromSendMs.push(...answer.fromSendMs);
        measured.fromScheduleMs.push(...answer.fromScheduleMs);
        measured.failures.push(...answer.failures);
      } else {
        await Promise.all(Array.from({ length: Number(args.clients) }, () => queryClient(service.url, untilMs, requestRate, measured)));
      }
      const elapsedS = (Date.now() - startedMs) / 1_000;
      loopDelay.disable();
      gcPauses.disconnect();
      const sent = await load.stop();
      load = undefined;
      const sorted = [...measured.fromSendMs].sort((a, b) => a - b);
      const fromSchedule = [...measured.fromScheduleMs].sort((a, b) => a - b);
      const { failures } = measured;
      printTable(
        ['load events/s', 'clients', 'requests', 'requests/s', 'p50 ms', 'p99 ms', 'max ms', 'p99 from schedule ms', 'not 200', 'loop delay p99 ms', 'loop delay max ms', 'gc max ms'],
        [
          [
            fmt(sent / (elapsedS + Number(args['warmup-seconds']))),
            args.clients,
            fmt(sorted.length),
            fmt(sorted.length / elapsedS),
            percentile(sorted, 50).toFixed(2),
            percentile(sorted, 99).toFixed(2),
            (sorted.at(-1) ?? NaN).toFixed(2),
            fromSchedule.length === 0 ? '-' : percentile(fromSchedule, 99).toFixed(2),
            String(failures.length),
            (loopDelay.percentile(99) / 1e6).toFixed(2),
            (loopDelay.max / 1e6).toFixed(2),
            gcMaxMs.toFixed(2),
          ],
        ],
      );
      if (failures.length > 0) console.error(`not 200, e.g.:\n${failures.slice(0, 5).join('\n')}`);
      console.log(machineLine());
    } finally {
      await service.close();
    }
  } finally {
    await load?.stop();
    await broker.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}

interface ClientsTask {
  readonly role: 'clients';
  readonly serviceUrl: string;
  readonly untilMs: number;
  readonly clients: number;
  readonly requestRate: number;
}

/** Per answer: ms from sending the request, and (paced clients) from its scheduled time; what was not 200. */
interface Measured {
  readonly fromSendMs: number[];
  readonly fromScheduleMs: number[];
  readonly failures: string[];
}

type ClientsAnswer = Measured;

/** Runs the clients in a worker thread of this script until `untilMs`; resolves with what they measured. */
function clientsInWorker(task: ClientsTask): Promise<ClientsAnswer> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: task });
    worker.once('message', (answer: ClientsAnswer) => resolve(answer));
    worker.once('error', reject);
  });
}

async function loadWorkerMain(task: LoadTask): Promise<void> {
  let stopped = false;
  parentPort?.once('message', () => (stopped = true));
  parentPort?.postMessage(await feedLoad(task, () => stopped));
}

async function clientsWorkerMain(task: ClientsTask): Promise<void> {
  const measured: Measured = { fromSendMs: [], fromScheduleMs: [], failures: [] };
  await Promise.all(Array.from({ length: task.clients }, () => queryClient(task.serviceUrl, task.untilMs, task.requestRate, measured)));
  parentPort?.postMessage(measured satisfies ClientsAnswer);
}

if (isMainThread) await main();
else {
  const task = workerData as LoadTask | ClientsTask;
  await (task.role === 'load' ? loadWorkerMain(task) : clientsWorkerMain(task));
}
