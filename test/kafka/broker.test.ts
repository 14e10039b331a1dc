/**
 * Integration tests through a real Kafka broker (see test/kafka/global-setup.ts and
 * cli/local-cluster/local-kafka.ts): idempotent produce + group consume, transactions with
 * read_committed, and a broker stopped / crashed and restarted on the same port and data.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, Partitioners, logLevel, type Consumer, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startLocalKafka, type LocalKafka } from '../../cli/local-cluster/local-kafka.js';

interface Got {
  partition: number;
  offset: string;
  key: string;
  value: string;
}

// kafkajs logs retriable broker answers (COORDINATOR_LOAD_IN_PROGRESS, CONCURRENT_TRANSACTIONS, ...)
// at ERROR; keep the output quiet unless asked (TALLY_KAFKAJS_LOG_LEVEL=ERROR|WARN|INFO|DEBUG).
const kafkajsLogLevel = logLevel[(process.env['TALLY_KAFKAJS_LOG_LEVEL'] ?? 'NOTHING').toUpperCase() as keyof typeof logLevel] ?? logLevel.NOTHING;

function client(brokers: string[], clientId = 'tally-broker-test'): Kafka {
  return new Kafka({ clientId, brokers, logLevel: kafkajsLogLevel, retry: { retries: 8, initialRetryTime: 200 } });
}

function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

async function createTopic(kafka: Kafka, topic: string, numPartitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({ topics: [{ topic, numPartitions, replicationFactor: 1 }], waitForLeaders: true });
    expect(created).toBe(true);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads `topic` from the beginning with a fresh consumer group until `count` messages arrived
 * (then waits `settleMs` more to catch any extra ones) or `timeoutMs` passes.
 */
async function consume(kafka: Kafka, topic: string, count: number, opts: { readUncommitted?: boolean; settleMs?: number; timeoutMs?: number } = {}): Promise<Got[]> {
  const consumer: Consumer = kafka.consumer({
    groupId: uniqueName('g'),
    readUncommitted: opts.readUncommitted ?? false,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    maxWaitTimeInMs: 200,
  });
  const got: Got[] = [];
  let reached: () => void = () => undefined;
  const reachedCount = new Promise<void>((r) => {
    reached = r;
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        got.push({ partition, offset: message.offset, key: message.key?.toString() ?? '', value: message.value?.toString() ?? '' });
        if (got.length >= count) reached();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      reachedCount.then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), opts.timeoutMs ?? 30_000);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) throw new Error(`consumed only ${got.length} of ${count} messages from ${topic}`);
    await new Promise((r) => setTimeout(r, opts.settleMs ?? 500));
    return got;
  } finally {
    await consumer.disconnect();
  }
}

describe('real Kafka broker (shared, from globalSetup)', () => {
  const brokers = inject('kafkaBrokers');
  const kafka = client(brokers);

  it('idempotent producer → 3-partition topic → consumer group reads exactly what was written', async () => {
    const topic = uniqueName('idem');
    await createTopic(kafka, topic, 3);

    const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const sent = Array.from({ length: 100 }, (_, i) => ({ key: `k${String(i % 10)}`, value: `v${String(i).padStart(3, '0')}` }));
    try {
      // 10 batches of 10, in order.
      for (let b = 0; b < 10; b++) {
        await producer.send({ topic, acks: -1, messages: sent.slice(b * 10, b * 10 + 10) });
      }
    } finally {
      await producer.disconnect();
    }

    const got = await consume(kafka, topic, 100);
    expect(got).toHaveLength(100);
    // Exact contents (as a multiset) ...
    expect(got.map((g) => `${g.key}=${g.value}`).sort()).toEqual(sent.map((m) => `${m.key}=${m.value}`).sort());
    // ... each key on one partition, in send order there, offsets dense from 0.
    const partitionsUsed = new Set<number>();
    for (let k = 0; k < 10; k++) {
      const forKey = got.filter((g) => g.key === `k${String(k)}`);
      expect(new Set(forKey.map((g) => g.partition)).size).toBe(1);
      expect(forKey.map((g) => g.value)).toEqual(sent.filter((s) => s.key === `k${String(k)}`).map((s) => s.value));
      partitionsUsed.add(forKey[0]?.partition ?? -1);
    }
    expect(partitionsUsed.size).toBeGreaterThan(1);
    for (const p of [0, 1, 2]) {
      const offsets = got.filter((g) => g.partition === p).map((g) => Number(g.offset));
      expect(offsets).toEqual(offsets.map((_, i) => i));
    }

    const admin = kafka.admin();
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets(topic);
      expect(ends).toHaveLength(3);
      expect(ends.reduce((n, p) => n + Number(p.high), 0)).toBe(100);
    } finally {
      await admin.disconnect();
    }
  });

  it('transactions: read_committed sees committed messages only, read_uncommitted sees the aborted ones too', async () => {
    const topic = uniqueName('txn');
    await createTopic(kafka, topic, 1);

    const producer = kafka.producer({
      transactionalId: uniqueName('tx'),
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    try {
      const t1 = await producer.transaction();
      await t1.send({ topic, messages: [{ key: 'a', value: 'committed-1' }, { key: 'a', value: 'committed-2' }] });
      await t1.commit();

      const t2 = await producer.transaction();
      await t2.send({ topic, messages: [{ key: 'a', value: 'aborted-1' }, { key: 'a', value: 'aborted-2' }, { key: 'a', value: 'aborted-3' }] });
      await t2.abort();

      // A commit after the abort, so the last stable offset moves past the aborted batch.
      const t3 = await producer.transaction();
      await t3.send({ topic, messages: [{ key: 'a', value: 'committed-3' }] });
      await t3.commit();
    } finally {
      await producer.disconnect();
    }

    const committed = await consume(kafka, topic, 3, { readUncommitted: false, settleMs: 1000 });
    expect(committed.map((g) => g.value)).toEqual(['committed-1', 'committed-2', 'committed-3']);

    const everything = await consume(kafka, topic, 6, { readUncommitted: true, settleMs: 1000 });
    expect(everything.map((g) => g.value)).toEqual(['committed-1', 'committed-2', 'aborted-1', 'aborted-2', 'aborted-3', 'committed-3']);
  });
});

describe('broker stopped and restarted on the same port and data (own broker)', () => {
  let local: LocalKafka;

  beforeAll(async () => {
    local = await startLocalKafka({ onProgress: () => undefined });
  });
  afterAll(async () => {
    await local?.stop();
  });

  it('keeps topics and records across a clean stop and a crash (SIGKILL); one producer survives both', async () => {
    const kafka = client(local.brokers, 'tally-restart-test');
    const topic = uniqueName('restart');
    await createTopic(kafka, topic, 2);
    const { port, logDir, clusterId } = local;

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const batch = (tag: string) => Array.from({ length: 10 }, (_, i) => ({ key: `k${String(i % 4)}`, value: `${tag}-${String(i)}` }));
    try {
      await producer.send({ topic, acks: -1, messages: batch('before') });

      const pidBefore = local.pid;
      await local.restart(); // SIGTERM: clean shutdown
      expect(local.running).toBe(true);
      expect(local.pid).not.toBe(pidBefore);
      await producer.send({ topic, acks: -1, messages: batch('after-clean-restart') });

      await local.stopBroker({ signal: 'SIGKILL' }); // crash
      expect(local.running).toBe(false);
      await local.startBroker();
      await producer.send({ topic, acks: -1, messages: batch('after-crash') });
    } finally {
      await producer.disconnect();
    }

    expect(local.brokers).toEqual([`127.0.0.1:${String(port)}`]);
    expect(local.logDir).toBe(logDir);
    expect(local.clusterId).toBe(clusterId);

    const got = await consume(kafka, topic, 30);
    const values = got.map((g) => g.value).sort();
    expect(values).toEqual([...batch('before'), ...batch('after-clean-restart'), ...batch('after-crash')].map((m) => m.value).sort());
  });
});
