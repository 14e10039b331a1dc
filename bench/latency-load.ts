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
  readonly subjects: number;
  readonly keyedBySubject: boolean;
  /** Makes event ids unique across runs. */
  readonly run: string;
  /** How long to wait for the last meter updates after the last send. */
  readonly drainMs: number;
}

export interface LatencyLoadResult {
  readonly sentPerSecond: number;
  /** Latencies of every meter update seen, ms, sorted. */
  readonly latenciesMs: number[];
  /** Latencies of the meter updates of events sent after the first 5-second slice (start-up, cold caches and JIT), ms, sorted. */
  readonly warmLatenciesMs: number[];
  /** p99 latency of the events sent in each 5-second slice of the run, ms. */
  readonly p99BySliceMs: number[];
  /** Meter updates expected and never seen. */
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

/** Sends `rate` events/s for `seconds`, a slice every 10 ms, each event stamped with its send time. */
async function sendPaced(producer: Producer, options: LatencyLoadOptions, book: LatencyBook): Promise<number> {
  const { rate, seconds, subjects } = options;
  const startedMs = Date.now();
  let sent = 0;
  const total = rate * seconds;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((Date.now() - startedMs) * rate) / 1000));
    if (due > sent) {
      const nowMs = Date.now();
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
  return total / ((Date.now() - startedMs) / 1000);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Runs the load and the tail, and measures. */
export async function runLatencyLoad(options: LatencyLoadOptions): Promise<LatencyLoadResult> {
  const kafka = new kafkajs.Kafka({ clientId: 'bench-latency-load', brokers: options.brokers, logLevel: kafkajs.logLevel.NOTHING });
  const book = new LatencyBook();
  const tail = await tailMeters(kafka, options.metersTopic, book);
  // On a loaded machine a send can time out or meet a leader still moving: retry for longer than kafkajs's 5 tries.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 30 } });
  await producer.connect();
  const startedMs = Date.now();
  const sentPerSecond = await sendPaced(producer, options, book);
  const deadlineMs = Date.now() + options.drainMs;
  while (book.latencies.length < book.expected && Date.now() < deadlineMs) await new Promise((r) => setTimeout(r, 100));
  await producer.disconnect();
  await tail.disconnect();
  const slices: number[][] = [];
  for (const { sentMs, latencyMs } of book.latencies) (slices[Math.floor((sentMs - startedMs) / sliceMs)] ??= []).push(latencyMs);
  return {
    sentPerSecond,
    latenciesMs: book.latencies.map((l) => l.latencyMs).sort((a, b) => a - b),
    warmLatenciesMs: book.latencies.filter((l) => l.sentMs - startedMs >= sliceMs).map((l) => l.latencyMs).sort((a, b) => a - b),
    p99BySliceMs: [...slices].map((slice) => percentile((slice ?? []).sort((a, b) => a - b), 99)),
    missing: book.expected - book.latencies.length,
  };
}

if (parentPort !== null && workerData !== null) {
  const port = parentPort;
  runLatencyLoad(workerData as LatencyLoadOptions).then(
    (result) => port.postMessage({ result }),
    (error: Error) => port.postMessage({ error: error.stack ?? error.message }),
  );
}
