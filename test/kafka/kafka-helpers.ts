/**
 * Helpers for tests against the run's real broker: unique names, topics,
 * producing, and reading a topic to its end (read_committed by default).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Kafka, type Message } from 'kafkajs';
import { inject } from 'vitest';
import { waitForLeaders } from '../../service/topics/index.js';

export function brokers(): string[] {
  return inject('kafkaBrokers');
}

export function kafkaClient(clientId = 'tally-test'): Kafka {
  return new kafkajs.Kafka({ clientId, brokers: brokers(), logLevel: kafkajs.logLevel.NOTHING });
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export function tempStateDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tally-kafka-state-'));
}

/**
 * Creates topics. Time retention is off by default: test events are dated in
 * the past, and the broker would delete them by their timestamps.
 */
export async function createTopics(topics: Record<string, number>, configEntries: { name: string; value: string }[] = [{ name: 'retention.ms', value: '-1' }]): Promise<void> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    // kafkajs's own waitForLeaders gives up when the broker briefly answers "unknown topic"
    // right after the create (seen under load); the service's wait retries that.
    await admin.createTopics({
      topics: Object.entries(topics).map(([topic, numPartitions]) => ({ topic, numPartitions, replicationFactor: 1, configEntries })),
      waitForLeaders: false,
    });
    await waitForLeaders(admin, Object.keys(topics));
  } finally {
    await admin.disconnect();
  }
}

export async function produce(topic: string, messages: Message[]): Promise<void> {
  const producer = kafkaClient().producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 1000) await producer.send({ topic, messages: messages.slice(i, i + 1000), acks: -1 });
  } finally {
    await producer.disconnect();
  }
}

export interface ReadRecord {
  readonly key: string | null;
  readonly value: string | null;
  readonly partition: number;
  readonly offset: number;
  readonly headers: Record<string, string>;
}

/**
 * Reads a whole topic from the beginning up to its current end offsets
 * (the last stable offsets, when reading committed). Times out loudly.
 */
export async function readTopic(topic: string, options: { readCommitted?: boolean; timeoutMs?: number; kafka?: Kafka } = {}): Promise<ReadRecord[]> {
  const kafka = options.kafka ?? kafkaClient();
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
  await admin.disconnect();
  const records: ReadRecord[] = [];
  const positions = new Map<number, number>([...ends.keys()].map((p) => [p, 0]));
  const done = () => [...ends].every(([p, end]) => (positions.get(p) ?? 0) >= end);
  if (done()) return records;
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), readUncommitted: options.readCommitted === false });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const timeoutMs = options.timeoutMs ?? 30_000;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading ${topic} timed out after ${timeoutMs} ms at ${JSON.stringify([...positions])} of ${JSON.stringify([...ends])}`)), timeoutMs);
      // Batches of transaction markers only never reach eachBatch; their end event still moves the position.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        positions.set(payload.partition, Math.max(positions.get(payload.partition) ?? 0, Number(payload.lastOffset) + 1));
        if (done()) {
          clearTimeout(timer);
          resolve();
        }
      });
      void consumer.run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            if (Number(m.offset) >= (ends.get(batch.partition) ?? 0)) continue;
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) headers[k] = String(v);
            records.push({ key: m.key?.toString() ?? null, value: m.value?.toString() ?? null, partition: batch.partition, offset: Number(m.offset), headers });
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/** Polls until `check` returns true, or fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
