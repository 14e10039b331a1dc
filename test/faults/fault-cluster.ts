/**
 * A scenario's Kafka side, on the run's shared broker or on a broker of its
 * own: its topics, the customers table seed, a paced input feed, tails that
 * follow the outputs while the pipeline runs, and a final read_committed
 * read of every output topic to its end.
 */
import kafkajs, { type Consumer, type Kafka, type Producer } from 'kafkajs';
import { customerTableRecords } from '../../processors/index.js';
import { brokers as sharedBrokers, readTopic } from '../kafka/kafka-helpers.js';
import type { MeteringTopics, TailRecord } from '../kafka/metering-fixtures.js';
import type { FaultCustomer } from './fault-inputs.js';
import type { ObservedOutputs } from './compare-outputs.js';
import type { SentRecord } from './fault-inputs.js';

export interface Cluster {
  readonly brokers: readonly string[];
  readonly kafka: Kafka;
}

export function clusterAt(brokers: readonly string[]): Cluster {
  return { brokers, kafka: new kafkajs.Kafka({ clientId: 'tally-faults', brokers: [...brokers], logLevel: kafkajs.logLevel.NOTHING }) };
}

/** The broker test/kafka/global-setup.ts started for this vitest run. */
export function sharedCluster(): Cluster {
  return clusterAt(sharedBrokers());
}

/** Input partitions; the customers topic has as many (it is co-partitioned with the subject-keyed repartition topic). */
export const eventPartitions = 4;
/** Room for the poison stream's 1.1 MiB payload, and for its dead letter (base64, a third larger). */
const maxMessageBytes = String(4 * 1_048_576);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Creates the scenario's topics and waits until every partition has a leader. */
export async function createScenarioTopics(cluster: Cluster, topics: MeteringTopics): Promise<void> {
  const keep = [{ name: 'retention.ms', value: '-1' }]; // event times are in the past: never delete by timestamp
  const compact = [{ name: 'cleanup.policy', value: 'compact' }];
  const large = { name: 'max.message.bytes', value: maxMessageBytes };
  const wanted = [
    { topic: topics.events, numPartitions: eventPartitions, configEntries: [...keep, large] },
    { topic: topics.customers, numPartitions: eventPartitions, configEntries: compact },
    { topic: topics.meters, numPartitions: 3, configEntries: compact },
    { topic: topics.billing, numPartitions: 3, configEntries: compact },
    { topic: topics.invoices, numPartitions: 3, configEntries: compact },
    { topic: topics.entitlements, numPartitions: 3, configEntries: compact },
    { topic: topics.alerts, numPartitions: 3, configEntries: keep },
    { topic: topics.late, numPartitions: 1, configEntries: keep },
    { topic: topics.deadLetter, numPartitions: 1, configEntries: [...keep, large] },
  ];
  const admin = cluster.kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: wanted.map((t) => ({ ...t, replicationFactor: 1 })), waitForLeaders: false });
    const names = wanted.map((t) => t.topic);
    for (const deadline = Date.now() + 30_000; ; await sleep(100)) {
      // Right after creation the metadata may still say UNKNOWN_TOPIC_OR_PARTITION: ask again.
      const described = await admin.fetchTopicMetadata({ topics: names }).then((m) => m.topics, () => []);
      if (described.length === names.length && described.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
      if (Date.now() > deadline) throw new Error(`topics ${names.join(', ')} have no leaders after 30 s`);
    }
  } finally {
    await admin.disconnect();
  }
}

/** The customers table, keyed by subject, written before the pipeline starts. */
export async function seedCustomers(cluster: Cluster, topic: string, customers: readonly FaultCustomer[]): Promise<void> {
  const producer = cluster.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const records = customerTableRecords({ customers: customers.map((c) => ({ ...c, subjects: [...c.subjects] })) });
    await producer.send({ topic, acks: -1, messages: records.map(({ key, value }) => ({ key, value: JSON.stringify(value) })) });
  } finally {
    await producer.disconnect();
  }
}

/** One idempotent producer writing the scenario's input, paced, keeping count. */
export class InputFeed {
  sent = 0;
  private constructor(
    private readonly producer: Producer,
    private readonly topic: string,
  ) {}

  static async connect(cluster: Cluster, topic: string): Promise<InputFeed> {
    const producer = cluster.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    return new InputFeed(producer, topic);
  }

  /** Sends `records` in order, `chunk` at a time, waiting `intervalMs` after each chunk. */
  async send(records: readonly SentRecord[], pace: { chunk: number; intervalMs: number }): Promise<void> {
    for (let i = 0; i < records.length; i += pace.chunk) {
      const messages = records.slice(i, i + pace.chunk).map((r) => ({ key: r.key, value: r.value }));
      await this.producer.send({ topic: this.topic, acks: -1, messages });
      this.sent += messages.length;
      await sleep(pace.intervalMs);
    }
  }

  async close(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
  }
}

/**
 * Follows one topic from the beginning (read_committed) and survives the broker going away: a
 * kafkajs consumer that crashes (it gives up on a missing group coordinator) is replaced by a
 * new one reading from the beginning again, and records already seen (same partition and
 * offset) are not kept twice. Without this, a tail dies with the broker-restart scenario's
 * first outage, and the scenario waits out its whole budget for outputs that were there.
 */
class SurvivingTail {
  readonly records: TailRecord[] = [];
  private readonly seen = new Set<string>();
  private consumer: Consumer | undefined;
  private stopped = false;

  constructor(
    private readonly topic: string,
    private readonly kafka: Kafka,
  ) {}

  static async start(topic: string, kafka: Kafka): Promise<SurvivingTail> {
    const tail = new SurvivingTail(topic, kafka);
    await tail.run();
    return tail;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer?.disconnect().catch(() => undefined);
  }

  private async run(): Promise<void> {
    const consumer = this.kafka.consumer({ groupId: `tail-${Date.now()}-${Math.random().toString(36).slice(2)}`, readUncommitted: false, maxWaitTimeInMs: 200 });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (event) => {
      if (event.payload.restart || this.stopped) return;
      void consumer.disconnect().catch(() => undefined);
      setTimeout(() => void this.restart(), 1_000);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    void consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const id = `${partition}:${message.offset}`;
        if (this.seen.has(id)) return;
        this.seen.add(id);
        this.records.push({ key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, partition, offset: Number(message.offset) });
      },
    });
  }

  private async restart(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.run();
    } catch {
      setTimeout(() => void this.restart(), 1_000);
    }
  }
}

/** Follows every output topic from the beginning (read_committed) while the scenario runs. */
export class OutputTails {
  private constructor(private readonly tails: { readonly [K in keyof ObservedOutputs]: SurvivingTail }) {}

  static async start(cluster: Cluster, topics: MeteringTopics): Promise<OutputTails> {
    const tail = (topic: string) => SurvivingTail.start(topic, cluster.kafka);
    return new OutputTails({ meters: await tail(topics.meters), billing: await tail(topics.billing), invoices: await tail(topics.invoices), alerts: await tail(topics.alerts), late: await tail(topics.late), deadLetters: await tail(topics.deadLetter) });
  }

  observed(): ObservedOutputs {
    return { meters: this.tails.meters.records, billing: this.tails.billing.records, invoices: this.tails.invoices.records, alerts: this.tails.alerts.records, late: this.tails.late.records, deadLetters: this.tails.deadLetters.records };
  }

  async stop(): Promise<void> {
    for (const tail of Object.values(this.tails)) await tail.stop();
  }
}

/** Every output topic read_committed from the beginning to its last stable offset, by a fresh consumer. */
export async function readOutputs(cluster: Cluster, topics: MeteringTopics): Promise<ObservedOutputs> {
  const read = (topic: string) => readTopic(topic, { kafka: cluster.kafka, readCommitted: true, timeoutMs: 60_000 });
  return { meters: await read(topics.meters), billing: await read(topics.billing), invoices: await read(topics.invoices), alerts: await read(topics.alerts), late: await read(topics.late), deadLetters: await read(topics.deadLetter) };
}
