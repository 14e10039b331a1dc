/**
 * The load side of bench:latency, run in a worker thread so that its work
 * (encoding the events, reading the meter records back) does not delay the
 * app's event loop, nor the app's work the timestamps taken here: a paced
 * producer sends events stamped with the current time while a read_committed
 * consumer tails the meters topic. An event's latency is the time from the
 * start of its send until the first meter record of its window whose count
 * includes it becomes visible (for the k-th event of a meter window, the
 * first record with count >= k; events of one window may be counted in
 * another order than sent, so this is an upper bound). Every event counts
 * once per meter it feeds.
 *
 * With a warm-up, the load first sends at the same rate for `warmupSeconds`
 * and times only what it sends after: the figures are the pipeline's steady
 * state at that rate, not its start (cold code and caches, the first
 * transactions of each producer, and the backlog those leave behind). The
 * warm-up's own latencies are reported apart (`startupP99Ms`), never mixed
 * in. The worker posts `{ timed: true }` when the timed part begins, so the
 * app's CPU and commits can be read over the same span.
 */
import { parentPort, workerData } from 'node:worker_threads';
import kafkajs, { type Consumer, type Producer } from 'kafkajs';
import { meterRecordKey } from '../processors/index.js';
import { benchEvent, benchMeters, type BenchEvent } from './metering-events.js';

export interface LatencyLoadOptions {
  readonly brokers: string[];
  readonly eventsTopic: string;
  readonly metersTopic: string;
  readonly rate: number;
  readonly seconds: number;
  /** Sent at `rate` before the timed `seconds`, and not timed. */
  readonly warmupSeconds: number;
  readonly subjects: number;
  readonly keyedBySubject: boolean;
  /** Makes event ids unique across runs. */
  readonly run: string;
  /** How long to wait for the last meter updates after the last send. */
  readonly drainMs: number;
}

export interface LatencyLoadResult {
  readonly sentPerSecond: number;
  /** Latencies of every meter update of the timed part seen, ms, sorted. */
  readonly latenciesMs: number[];
  /** p99 latency of the events sent in each 5-second slice of the timed part, ms. */
  readonly p99BySliceMs: number[];
  /** p99 latency of the warm-up's events (NaN without a warm-up), ms. */
  readonly startupP99Ms: number;
  /** p99 latency of the warm-up's events in each of its 5-second slices, ms. */
  readonly startupP99BySliceMs: number[];
  /** Meter updates expected (warm-up included) and never seen. */
  readonly missing: number;
}

const windowMs = 60_000;
const sliceMs = 5_000;

/** Meter record keys an event feeds (one per meter of its type). */
function meterKeysOf(event: BenchEvent, timeMs: number): string[] {
  const windowStartMs = timeMs - (timeMs % windowMs);
  return benchMeters
    .filter((m) => m.eventType === event.type)
    .map((m) => meterRecordKey(m.slug, event.subject, 'groupBy' in m ? { route: String(event.data['route']) } : {}, windowStartMs));
}

/** Send times (ms) per meter key, in send order; and latencies (ms) as the tail sees counts grow. */
class LatencyBook {
  readonly sentAt = new Map<string, number[]>();
  readonly counted = new Map<string, number>();
  readonly latencies: { sentMs: number; latencyMs: number }[] = [];
  expected = 0;

  sent(keys: readonly string[], atMs: number): void {
    for (const key of keys) {
      let times = this.sentAt.get(key);
      if (times === undefined) this.sentAt.set(key, (times = []));
      times.push(atMs);
      this.expected++;
    }
  }

  seen(key: string, count: number, atMs: number): void {
    const times = this.sentAt.get(key);
    if (times === undefined) return;
    for (let k = this.counted.get(key) ?? 0; k < Math.min(count, times.length); k++) {
      const sentMs = times[k] as number;
      this.latencies.push({ sentMs, latencyMs: atMs - sentMs });
    }
    this.counted.set(key, Math.max(this.counted.get(key) ?? 0, count));
  }
}

async function tailMeters(kafka: kafkajs.Kafka, topic: string, book: LatencyBook): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId: `bench-latency-tail-${topic}`, readUncommitted: false, maxWaitTimeInMs: 20 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const nowMs = Date.now();
      for (const message of batch.messages) {
        if (message.key === null || message.value === null) continue;
        const { count } = JSON.parse(message.value.toString()) as { count: number };
        book.seen(message.key.toString(), count, nowMs);
      }
    },
  });
  return consumer;
}

/**
 * Sends `rate` events/s for `warmupSeconds + seconds`, a slice every 10 ms,
 * each event stamped with its send time; calls `timed()` when the timed part
 * begins. Returns when the load and its timed part began, and the timed part's send rate.
 */
async function sendPaced(
  producer: Producer,
  options: LatencyLoadOptions,
  book: LatencyBook,
  timed: () => void,
): Promise<{ startedMs: number; timedFromMs: number; sentPerSecond: number }> {
  const { rate, seconds, warmupSeconds, subjects } = options;
  const startedMs = Date.now();
  const warmup = rate * warmupSeconds;
  const total = warmup + rate * seconds;
  let sent = 0;
  let timedFromMs = warmup === 0 ? startedMs : Number.POSITIVE_INFINITY;
  if (warmup === 0) timed();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((Date.now() - startedMs) * rate) / 1000));
    if (due > sent) {
      const nowMs = Date.now();
      if (sent >= warmup && timedFromMs === Number.POSITIVE_INFINITY) {
        timedFromMs = nowMs;
        timed();
      }
      const messages = [];
      for (; sent < due; sent++) {
        const event = { ...benchEvent(sent, { subjects, fromMs: nowMs, spanMs: 1 }), id: `lat-${options.run}-${sent}`, time: new Date(nowMs).toISOString() };
        book.sent(meterKeysOf(event, nowMs), nowMs);
        messages.push({ key: options.keyedBySubject ? event.subject : event.id, value: JSON.stringify(event) });
      }
      await producer.send({ topic: options.eventsTopic, messages, acks: -1 });
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { startedMs, timedFromMs, sentPerSecond: (total - warmup) / ((Date.now() - timedFromMs) / 1000) };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** p99 of the latencies of the events sent in each `sliceMs` from `fromMs` on, up to `toMs`. */
function p99BySlice(latencies: readonly { sentMs: number; latencyMs: number }[], fromMs: number, toMs: number): number[] {
  const slices: number[][] = [];
  for (const { sentMs, latencyMs } of latencies) if (sentMs >= fromMs && sentMs < toMs) (slices[Math.floor((sentMs - fromMs) / sliceMs)] ??= []).push(latencyMs);
  return [...slices].map((slice) => percentile((slice ?? []).sort((a, b) => a - b), 99));
}

/** Runs the load and the tail, and measures; `timed()` is called when the timed part begins. */
export async function runLatencyLoad(options: LatencyLoadOptions, timed: () => void = () => undefined): Promise<LatencyLoadResult> {
  const kafka = new kafkajs.Kafka({ clientId: 'bench-latency-load', brokers: options.brokers, logLevel: kafkajs.logLevel.NOTHING });
  const book = new LatencyBook();
  const tail = await tailMeters(kafka, options.metersTopic, book);
  // On a loaded machine a send can time out or meet a leader still moving: retry for longer than kafkajs's 5 tries.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 30 } });
  await producer.connect();
  const { startedMs, timedFromMs, sentPerSecond } = await sendPaced(producer, options, book, timed);
  const deadlineMs = Date.now() + options.drainMs;
  while (book.latencies.length < book.expected && Date.now() < deadlineMs) await new Promise((r) => setTimeout(r, 100));
  await producer.disconnect();
  await tail.disconnect();
  const sortedLatencies = (from: number, to: number) =>
    book.latencies.filter((l) => l.sentMs >= from && l.sentMs < to).map((l) => l.latencyMs).sort((a, b) => a - b);
  const end = Number.POSITIVE_INFINITY;
  return {
    sentPerSecond,
    latenciesMs: sortedLatencies(timedFromMs, end),
    p99BySliceMs: p99BySlice(book.latencies, timedFromMs, end),
    startupP99Ms: percentile(sortedLatencies(startedMs, timedFromMs), 99),
    startupP99BySliceMs: p99BySlice(book.latencies, startedMs, timedFromMs),
    missing: book.expected - book.latencies.length,
  };
}

if (parentPort !== null && workerData !== null) {
  const port = parentPort;
  runLatencyLoad(workerData as LatencyLoadOptions, () => port.postMessage({ timed: true })).then(
    (result) => port.postMessage({ result }),
    (error: Error) => port.postMessage({ error: error.stack ?? error.message }),
  );
}
