/**
 * What kafkajs's produce path costs per record, end to end, against a real
 * broker (local unless TALLY_KAFKA_BROKERS is set): a transactional producer
 * sends `--records` records in `sendBatch` calls shaped like Tally's output
 * chunks (several topics of 8 partitions, `--chunk` records per topic in a
 * call, string or Buffer keys, JSON values of 150–300 bytes, headers mostly
 * empty), committing every `--chunks-per-transaction` calls. It reports this
 * process's CPU time (process.cpuUsage) per record: grouping, encoding,
 * requests, responses and garbage, and the kernel's share of writing to the
 * socket (system time), not the broker's work. A profiled round pays for the
 * profiler too: compare unprofiled rounds.
 *
 * With `--consume`, a read_committed consumer then reads everything back
 * (a no-op eachBatch, as Tally's input side without processing) and the CPU
 * per record consumed is reported too: kafkajs's fetch and decode path.
 *
 *   npm run bench:kafkajs-produce -- --records 200000 [--rounds 3] [--consume] [--profile FILE.cpuprofile]
 */
import { parseArgs } from 'node:util';
import type { Kafka, Message, Producer, TopicMessages } from 'kafkajs';
import { partitionForKey } from '../topology/internal/partitioner.js';
import { commandLine, connectBroker, createTopics, machineLine } from './bench-kit.js';
import { startCpuProfile, summarizeProfile } from './cpu-profile.js';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    chunk: { type: 'string', default: '256' },
    topics: { type: 'string', default: '3' },
    partitions: { type: 'string', default: '8' },
    'chunks-per-transaction': { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    profile: { type: 'string' },
    consume: { type: 'boolean', default: false },
  },
});

const records = Number(args.records);
const chunkSize = Number(args.chunk);
const topicCount = Number(args.topics);
const partitions = Number(args.partitions);
const chunksPerTransaction = Number(args['chunks-per-transaction']);
const rounds = Number(args.rounds);
/** Records are stamped from here on, one ms apart. */
const startedMs = Date.now();

/** A JSON value of 150–300 bytes, like a meter update or a changelog record. */
function jsonValue(i: number): string {
  const padding = 'x'.repeat(i % 150);
  return JSON.stringify({ subject: `customer-${i % 10_000}`, meter: 'api-calls', window: { start: 1_700_000_000_000 + i, end: 1_700_000_060_000 + i }, quantity: i % 97, version: i, note: padding });
}

/**
 * The chunks of one round: each chunk has `chunkSize` records of every topic.
 * Topic 0 is keyed by string (the producer picks the partition), topic 1 by
 * Buffer with an explicit partition (a repartition topic), the rest by string
 * with an explicit partition (changelogs); one record in 64 has headers.
 */
function buildChunks(): TopicMessages[][] {
  const chunks: TopicMessages[][] = [];
  let made = 0;
  while (made < records) {
    const chunk: TopicMessages[] = [];
    for (let t = 0; t < topicCount && made < records; t++) {
      const messages: Message[] = [];
      for (let j = 0; j < chunkSize && made < records; j++, made++) {
        const key = `subject-${made % 10_000}|api-calls|${made % 7}`;
        const json = jsonValue(made);
        const headers = made % 64 === 0 ? { 'tally-origin': 'bench', trace: Buffer.from(`t-${made}`) } : {};
        // The wall clock: records stamped days ago are deleted by the broker's time retention
        // once a commit marker (stamped now) rolls their segment (see docs/kafkajs-patch.md).
        const timestamp = String(startedMs + made);
        if (t === 0) messages.push({ key, value: json, headers, timestamp });
        else if (t === 1) messages.push({ key: Buffer.from(key), value: Buffer.from(json), headers, timestamp, partition: made % partitions });
        else messages.push({ key, value: json, headers, timestamp, partition: made % partitions });
      }
      chunk.push({ topic: `bench-produce-${t}`, messages });
    }
    chunks.push(chunk);
  }
  return chunks;
}

/** Tally's partitioner (kafka-io.ts): the partition when given, else Tally's murmur2 of the key, not kafkajs's (which emulates 64-bit arithmetic). */
const createPartitioner = () => ({ partitionMetadata, message }: { partitionMetadata: unknown[]; message: Message }) =>
  message.partition ?? partitionForKey(typeof message.key === 'string' ? Buffer.from(message.key) : (message.key as Buffer), partitionMetadata.length);

async function produceAll(producer: Producer, chunks: TopicMessages[][]): Promise<{ cpuUs: number; systemUs: number; wallMs: number }> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < chunks.length; i += chunksPerTransaction) {
    const transaction = await producer.transaction();
    for (const chunk of chunks.slice(i, i + chunksPerTransaction)) await transaction.sendBatch({ topicMessages: chunk, acks: -1 });
    await transaction.commit();
  }
  const cpu = process.cpuUsage(cpuBefore);
  return { cpuUs: cpu.user + cpu.system, systemUs: cpu.system, wallMs: performance.now() - started };
}

/**
 * Reads `count` records of `topics` from the beginning, read_committed; CPU µs
 * per record read. Stops after 15 s without a new record (then `seen` < `count`).
 */
async function consumeAll(kafka: Kafka, topics: string[], count: number): Promise<{ cpuUs: number; wallMs: number; seen: number }> {
  const consumer = kafka.consumer({ groupId: `bench-produce-read-${Date.now().toString(36)}`, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  let seen = 0;
  let cpuBefore: NodeJS.CpuUsage | undefined;
  let started = 0;
  let lastRecordAt = Date.now();
  let lastSeen = -1;
  let stalled: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve) => {
    stalled = setInterval(() => {
      if (seen !== lastSeen) [lastSeen, lastRecordAt] = [seen, Date.now()];
      else if (Date.now() - lastRecordAt > 15_000) resolve();
    }, 1_000);
    void consumer.run({
      eachBatch: async ({ batch }) => {
        if (cpuBefore === undefined) {
          cpuBefore = process.cpuUsage();
          started = performance.now();
        }
        seen += batch.messages.length;
        if (seen >= count) resolve();
      },
    });
  });
  clearInterval(stalled);
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = performance.now() - started - (seen < count ? 15_000 : 0);
  await consumer.disconnect();
  return { cpuUs: cpu.user + cpu.system, wallMs, seen };
}

console.log(`$ ${commandLine()}`);
console.log(`machine: ${machineLine()}`);
const broker = await connectBroker();
try {
  const topics = Object.fromEntries(Array.from({ length: topicCount }, (_, t) => [`bench-produce-${t}`, partitions]));
  await createTopics(broker.admin, topics);
  const producer = broker.kafka.producer({ createPartitioner, transactionalId: `bench-produce-${Date.now().toString(36)}`, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const chunks = buildChunks();
  // Warm-up: the first transaction pays for metadata, connections and compilation.
  await produceAll(producer, chunks.slice(0, chunksPerTransaction * 2));
  const results: string[] = [];
  for (let round = 0; round < rounds; round++) {
    const profiler = round === rounds - 1 && args.profile !== undefined ? await startCpuProfile() : undefined;
    const { cpuUs, systemUs, wallMs } = await produceAll(producer, chunks);
    const profile = args.profile !== undefined ? await profiler?.stop(args.profile) : undefined;
    results.push(`${(cpuUs / records).toFixed(2)} µs CPU/record, of which system ${(systemUs / records).toFixed(2)} (${Math.round(records / (wallMs / 1000)).toLocaleString('en-US')} records/s)${profile === undefined ? '' : ', profiled'}`);
    if (profile !== undefined) console.log(summarizeProfile(profile, 30));
  }
  await producer.disconnect();
  let consumed: string | undefined;
  if (args.consume) {
    const total = records * rounds + chunks.slice(0, chunksPerTransaction * 2).flat().reduce((n, t) => n + t.messages.length, 0);
    const { cpuUs, wallMs, seen } = await consumeAll(broker.kafka, Object.keys(topics), total);
    consumed = `kafkajs read_committed consume of ${seen} records${seen < total ? ` (of ${total} produced: stalled)` : ''}: ${(cpuUs / seen).toFixed(2)} µs CPU/record (${Math.round(seen / (wallMs / 1000)).toLocaleString('en-US')} records/s)`;
  }
  console.log(`kafkajs transactional produce, ${records} records, ${topicCount} topics × ${partitions} partitions, ${chunkSize} records per topic per sendBatch, ${chunksPerTransaction} sendBatch per transaction:`);
  for (const line of results) console.log(`  ${line}`);
  if (consumed !== undefined) console.log(consumed);
  console.log(`machine after: ${machineLine()}`);
} finally {
  await broker.stop();
}
