/**
 * Seeds `topics.customers` from the config's customers. The topic is the
 * source of truth at run time: it is read to its end first, and only
 * subjects that have no record on it yet (not even a tombstone still
 * retained) are written, so a customer changed on the topic is never
 * overwritten by an older config.
 */
import type { Kafka } from 'kafkajs';
import { customerTableRecords, ratingEnabled } from '../processors/index.js';
import { TallyError, type TallyConfig } from '../schemas/index.js';
import { withRetries } from '../topology/kafka/index.js';
import type { EventProducer } from './event-producer.js';

export interface SeedReport {
  /** Subjects written now. */
  readonly seeded: readonly string[];
  /** Config subjects already on the topic, left as they are. */
  readonly kept: readonly string[];
}

const readTimeoutMs = 60_000;

export async function seedCustomers(config: TallyConfig, kafka: Kafka, producer: EventProducer): Promise<SeedReport> {
  if (!ratingEnabled(config) || config.customers.length === 0) return { seeded: [], kept: [] };
  const records = customerTableRecords(config);
  const onTopic = await readKeys(kafka, config.topics.customers, `${config.app.id}-customer-seeding`);
  const missing = records.filter((r) => !onTopic.has(r.key));
  if (missing.length > 0) {
    await producer.send(
      config.topics.customers,
      missing.map((r) => ({ key: r.key, value: Buffer.from(JSON.stringify(r.value), 'utf8') })),
    );
  }
  return { seeded: missing.map((r) => r.key), kept: records.filter((r) => onTopic.has(r.key)).map((r) => r.key) };
}

/** Every key on `topic` up to its current end (uncommitted records included: an open transaction must not stall start-up). */
async function readKeys(kafka: Kafka, topic: string, groupId: string): Promise<Set<string>> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, number>;
  try {
    // Right after `tally topics` created it, the broker may not know the partition's leader yet.
    ends = new Map((await withRetries(`reading the offsets of ${topic}`, () => admin.fetchTopicOffsets(topic))).filter((o) => Number(o.high) > Number(o.low)).map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
  const keys = new Set<string>();
  if (ends.size === 0) return keys;
  const positions = new Map<number, number>();
  const done = (): boolean => [...ends].every(([partition, end]) => (positions.get(partition) ?? 0) >= end);
  const consumer = kafka.consumer({ groupId, readUncommitted: true, maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const at = [...ends].map(([p, end]) => `partition ${p} at ${positions.get(p) ?? 0} of ${end}`).join(', ');
        reject(new TallyError('customers-read-timeout', `reading ${topic} to its end took over ${readTimeoutMs / 1000} s (${at}); check the brokers, then start again`));
      }, readTimeoutMs);
      // Batches of transaction markers never reach eachBatch; their end still moves the position.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        positions.set(payload.partition, Math.max(positions.get(payload.partition) ?? 0, Number(payload.lastOffset) + 1));
        if (done()) {
          clearTimeout(timer);
          resolve();
        }
      });
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const message of batch.messages) if (message.key !== null) keys.add(message.key.toString('utf8'));
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return keys;
}
