/**
 * Writes accepted events to `topics.events` with the idempotent producer of
 * the producer SDK (acks from all in-sync replicas, one request in flight,
 * keyed by subject through Kafka's default partitioner). A send that cannot
 * reach Kafka is a retriable `kafka-unavailable` error (503 at the API).
 */
import { allReplicasAcks, createIdempotentProducer } from '../client/index.js';
import { TallyError, type TallyConfig } from '../schemas/index.js';
import { kafkaClient } from './kafka-connection.js';

export interface KeyedMessage {
  readonly key: string;
  readonly value: Buffer;
}

export interface EventProducer {
  /** Writes `messages` to `topic`; throws TallyError `kafka-unavailable` when Kafka does not take them. */
  send(topic: string, messages: readonly KeyedMessage[]): Promise<void>;
  close(): Promise<void>;
}

/** kafkajs retries of one send before the API answers 503 (about 3 s with these waits). */
const sendRetry = { retries: 3, initialRetryMs: 200, maxRetryMs: 1_000 };

export async function connectEventProducer(config: TallyConfig, clientId: string): Promise<EventProducer> {
  const producer = createIdempotentProducer(kafkaClient(config, clientId, sendRetry), sendRetry);
  await producer.connect();
  return {
    async send(topic, messages) {
      try {
        await producer.send({ topic, messages: messages.map((m) => ({ key: m.key, value: m.value })), acks: allReplicasAcks });
      } catch (error) {
        throw new TallyError('kafka-unavailable', `Kafka did not take the events (${(error as Error).message})`, { retriable: true, cause: error });
      }
    },
    close: () => producer.disconnect().catch(() => undefined),
  };
}
