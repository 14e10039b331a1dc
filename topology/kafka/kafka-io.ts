/**
 * Small pieces between the runner and kafkajs: a serial work queue, producers
 * with Kafka's partitioner, and record conversion.
 */
import type { Kafka, KafkaMessage, Producer } from 'kafkajs';
import { DefaultPartitioner } from '../internal/partitioner.js';
import type { Headers } from '../record.js';
import type { RawRecord } from '../internal/stream-task.js';

/** TALLY_DEBUG=1 logs every batch and commit (noisy; for investigating). */
export const debug = process.env['TALLY_DEBUG'] === '1';

/**
 * Runs async jobs one at a time, in the order they were queued. A job still
 * running after `slowJobMs` is reported (once) with its label: a hung commit
 * must show up in the log, not as a silent stall.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly onSlowJob: (label: string, elapsedMs: number) => void = () => undefined,
    private readonly slowJobMs = 15_000,
  ) {}

  run<T>(label: string, job: () => Promise<T>): Promise<T> {
    const next = this.tail.then(async () => {
      const startedMs = Date.now();
      const timer = setTimeout(() => this.onSlowJob(label, Date.now() - startedMs), this.slowJobMs);
      try {
        return await job();
      } finally {
        clearTimeout(timer);
      }
    });
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/**
 * Kafka's default partitioner (murmur2 of the key; round-robin without a key),
 * with the fast murmur2 (kafkajs's own emulates 64-bit arithmetic).
 */
function createKafkaPartitioner() {
  return () => {
    const partitioner = new DefaultPartitioner();
    return ({ partitionMetadata, message }: { partitionMetadata: { partitionId: number }[]; message: { partition?: number | null; key?: Buffer | string | null } }) => {
      if (message.partition !== undefined && message.partition !== null) return message.partition;
      if (message.key === undefined || message.key === null) return (partitionMetadata[partitioner.partition(null, partitionMetadata.length)] as { partitionId: number }).partitionId;
      return partitioner.partition(typeof message.key === 'string' ? Buffer.from(message.key) : message.key, partitionMetadata.length);
    };
  };
}

export function createProducer(kafka: Kafka, options: { idempotent?: boolean; transactionalId?: string; transactionTimeout?: number }): Producer {
  return kafka.producer({
    createPartitioner: createKafkaPartitioner(),
    allowAutoTopicCreation: false,
    idempotent: true,
    maxInFlightRequests: 1,
    // An idempotent producer retries for ever (kafkajs's default), but starts at 20 ms, not 300.
    // (The CONCURRENT_TRANSACTIONS that the first send after a commit meets is answered sooner,
    // inside the patched transaction manager: docs/kafkajs-patch.md.)
    retry: { initialRetryTime: 20, retries: Number.MAX_SAFE_INTEGER },
    ...(options.transactionalId === undefined ? {} : { transactionalId: options.transactionalId }),
    ...(options.transactionTimeout === undefined ? {} : { transactionTimeout: options.transactionTimeout }),
  });
}

/** The headers of a record that has none (most): one frozen object instead of one per record. */
const noHeaders: Headers = Object.freeze({}) as Headers;

export function toRawRecord(message: KafkaMessage, partition: number): RawRecord {
  let headers: Record<string, string> = noHeaders as Record<string, string>;
  for (const name in message.headers) {
    const value = message.headers[name];
    if (value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first === undefined) continue;
    if (headers === noHeaders) headers = {};
    headers[name] = first.toString();
  }
  return {
    key: message.key,
    value: message.value,
    timestampMs: Number(message.timestamp),
    headers: headers as Headers,
    partition,
    offset: Number(message.offset),
  };
}

/** Retries `job` while kafkajs says its error is retriable (leader moves, topics just created). */
export async function withRetries<T>(what: string, job: () => Promise<T>, attempts = 20): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await job();
    } catch (error) {
      const retriable = (error as { retriable?: boolean }).retriable === true || /leader|not available|unknown topic/i.test(String((error as Error).message));
      if (!retriable || attempt >= attempts) throw new Error(`${what} failed after ${attempt} attempt(s): ${(error as Error).message}`, { cause: error });
      await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
    }
  }
}
