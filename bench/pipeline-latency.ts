/**
 * End-to-end latency at a fixed offered load: a paced producer sends events
 * stamped with the current time at `--rates` events/s for `--seconds`, while
 * a read_committed consumer tails `tally-meters`. An event's latency is the
 * time from the start of its send until the first meter record of its window
 * whose count includes it becomes visible (for the k-th event of a meter
 * window, the first record with count >= k; events of one window may be
 * counted in another order than sent, so this is an upper bound on the time
 * to reflect that event). Every event counts once per meter it feeds.
 *
 *   npm run bench:latency -- --rates 5000,20000 --seconds 30 --rating
 *
 * Options: --subjects (10 000), --partitions (4), --guarantees, --rating,
 * --keyed-by-subject, --commit-interval-ms (100). No duplicates are sent. When
 * the pipeline cannot keep up with a rate, latency grows for the whole run:
 * the table then shows the backlog's growth, not a steady state.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Consumer, Producer } from 'kafkajs';
import { meterRecordKey } from '../processors/index.js';
import type { ProcessingGuarantee } from '../topology/kafka/index.js';
import { commandLine, connectBroker, createTopics, fmt, machineLine, printTable, type BenchBroker } from './bench-kit.js';
import { benchEvent, benchMeters, type BenchEvent } from './metering-events.js';
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
const windowMs = 60_000;

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
  readonly latenciesMs: number[] = [];
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
    for (let k = this.counted.get(key) ?? 0; k < Math.min(count, times.length); k++) this.latenciesMs.push(atMs - (times[k] as number));
    this.counted.set(key, Math.max(this.counted.get(key) ?? 0, count));
  }
}

async function tailMeters(broker: BenchBroker, topic: string, book: LatencyBook): Promise<Consumer> {
  const consumer = broker.kafka.consumer({ groupId: `bench-latency-tail-${topic}`, readUncommitted: false, maxWaitTimeInMs: 20 });
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
async function sendPaced(producer: Producer, topic: string, rate: number, seconds: number, book: LatencyBook): Promise<number> {
  const startedMs = Date.now();
  let sent = 0;
  const total = rate * seconds;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((Date.now() - startedMs) * rate) / 1000));
    if (due > sent) {
      const nowMs = Date.now();
      const messages = [];
      for (; sent < due; sent++) {
        const event = { ...benchEvent(sent, { subjects, fromMs: nowMs, spanMs: 1 }), id: `lat-${run}-${sent}`, time: new Date(nowMs).toISOString() };
        book.sent(meterKeysOf(event, nowMs), nowMs);
        messages.push({ key: args['keyed-by-subject'] ? event.subject : event.id, value: JSON.stringify(event) });
      }
      await producer.send({ topic, messages, acks: -1 });
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return total / ((Date.now() - startedMs) / 1000);
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
      const book = new LatencyBook();
      const tail = await tailMeters(broker, pipeline.config.topics.meters, book);
      const producer = broker.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      const achieved = await sendPaced(producer, topic, rate, Number(args.seconds), book);
      const deadlineMs = Date.now() + 120_000;
      while (book.latenciesMs.length < book.expected && Date.now() < deadlineMs && pipeline.failure() === undefined) await new Promise((r) => setTimeout(r, 100));
      await producer.disconnect();
      await tail.disconnect();
      await pipeline.close();
      await rm(stateDir, { recursive: true, force: true });
      const sorted = [...book.latenciesMs].sort((a, b) => a - b);
      const missing = book.expected - sorted.length;
      const { rounds, elapsedMs } = pipeline.commits;
      console.log(
        `  ${guarantee} at ${fmt(rate)} events/s offered (${fmt(achieved)} sent): ${fmt(sorted.length)} meter updates timed${missing > 0 ? `, ${fmt(missing)} never seen within 120 s` : ''}; ` +
          `${fmt(rounds)} commit rounds of ${(elapsedMs / Math.max(1, rounds)).toFixed(0)} ms on average`,
      );
      rows.push([args.rating ? 'metering + rating' : 'metering', guarantee, fmt(rate), fmt(achieved), String(Math.round(percentile(sorted, 50))), String(Math.round(percentile(sorted, 99))), String(Math.round(sorted[sorted.length - 1] ?? NaN)), missing > 0 ? fmt(missing) : '0']);
    }
  }
  console.log(`\n${partitions} partitions, ${fmt(subjects)} subjects, ${args['keyed-by-subject'] ? 'input keyed by subject' : 'with repartition'}, commit every ${args['commit-interval-ms']} ms, ${args.seconds} s per rate; machine after: ${machineLine()}`);
  printTable(['pipeline', 'guarantee', 'offered events/s', 'sent events/s', 'p50 ms', 'p99 ms', 'max ms', 'not seen'], rows);
} finally {
  await broker.stop();
}
