/**
 * The usage client through broker outages and an application restart, on a
 * broker of its own: the broker is killed (SIGKILL) and later stopped cleanly
 * (SIGTERM) while events are being recorded and sent, and the client is
 * closed and reopened in between. Every recorded event must reach the topic,
 * and the real metering topology, deduping on (source, id), must count each
 * exactly once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUsageClient, type UsageClient, type UsageClientStats } from '../../client/index.js';
import { startLocalKafka, type LocalKafka } from '../../cli/local-cluster/local-kafka.js';
import { readTopic, uniqueName, type ReadRecord } from '../kafka/kafka-helpers.js';
import { MeteringHarness, meteringConfig, t0 } from '../processors/metering-harness.js';

const eventCount = 3_000;
const subjects = 7;

let local: LocalKafka;
let kafka: Kafka;
let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'tally-outage-'));
  local = await startLocalKafka({ onProgress: () => undefined });
  kafka = new kafkajs.Kafka({ clientId: 'tally-outage-test', brokers: local.brokers, logLevel: kafkajs.logLevel.NOTHING });
}, 120_000);
afterAll(async () => {
  await local?.stop();
  await rm(workDir, { recursive: true, force: true });
});

async function createTopic(topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    // No time retention: the events are dated 2024, and the broker would delete them by their timestamps.
    await admin.createTopics({ topics: [{ topic, numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '-1' }] }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/** Records events `from` to `to` (exclusive) one after another, yielding now and then so the sender runs in between. */
async function recordSteadily(client: UsageClient, ids: string[], from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    ids[i] = (await client.record({ type: 'api.request', subject: `customer-${i % subjects}`, time: t0 + i * 10 })).id;
    if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Records events `from` to `to` all at once (one grouped outbox write), so plenty are unsent right after. */
async function recordBurst(client: UsageClient, ids: string[], from: number, to: number): Promise<void> {
  await Promise.all(Array.from({ length: to - from }, async (_, k) => {
    const i = from + k;
    ids[i] = (await client.record({ type: 'api.request', subject: `customer-${i % subjects}`, time: t0 + i * 10 })).id;
  }));
}

/** Runs the records through the real metering topology (dedupe on (source, id), a COUNT meter); returns the count and the duplicates dropped. */
async function meteredCount(records: readonly ReadRecord[]): Promise<{ count: number; duplicates: number }> {
  const config = meteringConfig({ meters: [{ slug: 'calls', eventType: 'api.request', aggregation: 'COUNT', groupBy: {} }] });
  const harness = await MeteringHarness.start(config, { commitEveryRecords: 500 });
  try {
    for (const record of records) await harness.pipe(record.value ?? '', record.key === null ? {} : { key: record.key });
    await harness.driver.commit();
    const latest = new Map<string, number>();
    for (const meter of harness.meters()) latest.set(meter.subject, Number(meter.value));
    return { count: [...latest.values()].reduce((sum, n) => sum + n, 0), duplicates: harness.counters.duplicates };
  } finally {
    await harness.close();
  }
}

const balanced = (stats: UsageClientStats): boolean => stats.pendingAtOpen + stats.recorded === stats.sent + stats.pending;

describe('usage client through broker outages and an application restart', () => {
  it('delivers every recorded event; the pipeline counts each exactly once', { timeout: 110_000 }, async () => {
    const topic = uniqueName('usage-outage');
    await createTopic(topic);
    const warnings: string[] = [];
    const options = {
      brokers: local.brokers,
      topic,
      source: 'outage-test',
      outboxDir: join(workDir, 'outbox'),
      batchSize: 100,
      lingerMs: 10,
      backoff: { initialMs: 100, maxMs: 1_000 },
      closeTimeoutMs: 5_000,
      logger: { info: () => undefined, warn: (message: string) => warnings.push(message) },
    };
    const ids: string[] = [];

    // The first run of the application: the broker crashes mid-send and comes back.
    const first = createUsageClient(options);
    await first.open();
    await recordSteadily(first, ids, 0, 600);
    await recordBurst(first, ids, 600, 800);
    const pendingAtCrash = first.stats().pending; // the burst at least: none of it can have been acknowledged yet
    await local.stopBroker({ signal: 'SIGKILL' });
    await recordSteadily(first, ids, 800, 1_300);
    const crashRecovery = local.startBroker();
    await recordSteadily(first, ids, 1_300, 1_500);
    await crashRecovery;
    await recordSteadily(first, ids, 1_500, 1_800);
    await recordBurst(first, ids, 1_800, 2_000);
    await first.close(); // the application restarts, with events still in the outbox
    const firstStats = first.stats();

    // The second run: the broker shuts down cleanly mid-send and comes back.
    const second = createUsageClient(options);
    await second.open();
    expect(second.stats().pendingAtOpen).toBe(firstStats.pending);
    await recordSteadily(second, ids, 2_000, 2_300);
    await recordBurst(second, ids, 2_300, 2_500);
    const pendingAtShutdown = second.stats().pending;
    await local.stopBroker({ signal: 'SIGTERM' });
    await recordSteadily(second, ids, 2_500, 2_800);
    const cleanRecovery = local.startBroker();
    await recordSteadily(second, ids, 2_800, eventCount);
    await cleanRecovery;
    await second.flush(60_000);
    const secondStats = second.stats();
    await second.close();

    // The outages hit while events were waiting to be sent.
    expect(pendingAtCrash).toBeGreaterThanOrEqual(200);
    expect(pendingAtShutdown).toBeGreaterThanOrEqual(200);

    // The counts reconcile: everything recorded was sent, nothing is left.
    expect(firstStats.recorded + secondStats.recorded).toBe(eventCount);
    expect(balanced(firstStats)).toBe(true);
    expect(balanced(secondStats)).toBe(true);
    expect(secondStats.pending).toBe(0);
    expect(firstStats.sendFailures).toBeGreaterThan(0);
    expect(secondStats.sendFailures).toBeGreaterThan(0);
    expect(warnings.some((w) => w.includes('are safe in the outbox'))).toBe(true);

    // Every recorded event is on the topic, keyed by its subject (a re-sent batch may repeat some).
    const records = await readTopic(topic, { kafka, timeoutMs: 60_000 });
    const onTopic = new Set(records.map((r) => (JSON.parse(r.value ?? 'null') as { id: string }).id));
    expect(onTopic.size).toBe(eventCount);
    expect([...onTopic].sort()).toEqual([...ids].sort());
    expect(records.every((r) => r.key === (JSON.parse(r.value ?? 'null') as { subject: string }).subject)).toBe(true);

    // Downstream, dedupe on (source, id) makes each event count once.
    const metered = await meteredCount(records);
    expect(metered.count).toBe(eventCount);
    expect(metered.duplicates).toBe(records.length - eventCount);
  });
});
