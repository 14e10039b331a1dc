/**
 * Running a metering integration test: unique topics, the config document,
 * the app in process, tails that keep reading the output topics, malformed
 * records with their reasons, and expectations that wait (bounded) and fail
 * with the difference.
 */
import { rm } from 'node:fs/promises';
import type { Consumer, Kafka } from 'kafkajs';
import { expect } from 'vitest';
import { createMeteringCounters, buildMeteringTopology, type MeteringCounters } from '../../processors/index.js';
import { createIngestDecoder, type IngestDecoderOptions } from '../../processors/ingest/index.js';
import { parseConfig, type TallyConfig } from '../../schemas/index.js';
import { createApp, type KafkaApp } from '../../topology/kafka/index.js';
import { brokers, kafkaClient, tempStateDir, uniqueName } from './kafka-helpers.js';
import { mapDiff, sameMap, testMeters, type MeterValue } from './metering-truth.js';

export interface MeteringTopics {
  readonly events: string;
  readonly meters: string;
  readonly late: string;
  readonly deadLetter: string;
  readonly customers: string;
  readonly invoices: string;
  readonly entitlements: string;
  readonly alerts: string;
  readonly billing: string;
}

export function uniqueTopics(prefix: string): MeteringTopics {
  const id = uniqueName(prefix);
  return { events: `${id}-events`, meters: `${id}-meters`, late: `${id}-late`, deadLetter: `${id}-dead`, customers: `${id}-customers`, billing: `${id}-billing`, invoices: `${id}-invoices`, entitlements: `${id}-entitlements`, alerts: `${id}-alerts` };
}

/** A tally.yaml as an object (JSON is YAML): what `parseConfig` reads. */
export function configDocument(options: { appId: string; stateDir: string; topics: MeteringTopics; guarantee?: string; registryUrl?: string; commitIntervalMs?: number; keyedBySubject?: boolean }): Record<string, unknown> {
  return {
    app: { id: options.appId, stateDir: options.stateDir, processingGuarantee: options.guarantee ?? 'exactly_once', commitIntervalMs: options.commitIntervalMs ?? 100 },
    kafka: { brokers: brokers() },
    ...(options.registryUrl === undefined ? {} : { schemaRegistry: { url: options.registryUrl } }),
    topics: options.topics,
    ingest: { allowedLateness: 'PT1H', maxFutureSkew: 'PT5M', dedupeRetention: 'P1D', keyedBySubject: options.keyedBySubject ?? false },
    windows: { size: 'PT1M', retention: 'P1D' },
    meters: testMeters,
  };
}

export interface TailRecord {
  readonly key: string | null;
  readonly value: string | null;
  readonly partition: number;
  readonly offset: number;
}

/** Reads a topic from the beginning, read_committed, for as long as it is open. */
export class TopicTail {
  readonly records: TailRecord[] = [];
  private constructor(private readonly consumer: Consumer) {}

  static async start(topic: string, kafka: Kafka = kafkaClient()): Promise<TopicTail> {
    const consumer = kafka.consumer({ groupId: uniqueName('tail'), readUncommitted: false, maxWaitTimeInMs: 200 });
    const tail = new TopicTail(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        tail.records.push({ key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, partition, offset: Number(message.offset) });
      },
    });
    return tail;
  }

  /** Latest parsed value per key (the compacted view). */
  latest<T>(): Map<string, T> {
    const result = new Map<string, T>();
    for (const r of this.records) if (r.key !== null) result.set(r.key, JSON.parse(r.value ?? 'null') as T);
    return result;
  }

  parsed<T>(): T[] {
    return this.records.map((r) => JSON.parse(r.value ?? 'null') as T);
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect().catch(() => undefined);
  }
}

/** Meter values as the pipeline published them: key → { value, count }. */
export function publishedMeters(tail: TopicTail): Map<string, MeterValue> {
  return new Map([...tail.latest<{ value: string; count: number }>()].map(([key, v]) => [key, { value: v.value, count: v.count }]));
}

/** Polls `check` every 200 ms; on timeout fails with `describe()` (the difference, for the log). */
export async function eventually(what: string, check: () => boolean, describe: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}:\n${describe()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface InProcessApp {
  readonly app: KafkaApp;
  readonly config: TallyConfig;
  readonly counters: MeteringCounters;
  /** Everything the app and the decoder logged. */
  readonly logs: string[];
}

/**
 * Starts `app`, retrying (a fresh app each time, at most 3 attempts) when the runner's topic set-up
 * meets UNKNOWN_TOPIC_OR_PARTITION: topology/kafka/topics.ts creates internal topics with
 * kafkajs's `waitForLeaders`, which does not retry that answer, and a KRaft broker gives it for
 * a moment after creating a topic. A runner issue, reported; not what these tests are about.
 */
export async function startWithRetries(create: () => KafkaApp, onRetry: (message: string) => void): Promise<KafkaApp> {
  for (let attempt = 1; ; attempt++) {
    const app = create();
    try {
      await app.start();
      return app;
    } catch (error) {
      await app.close().catch(() => undefined);
      if ((error as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION' || attempt >= 3) throw error;
      onRetry(`app start failed with ${(error as Error).message} (runner topic set-up race); retrying`);
    }
  }
}

/** Parses the config document like `tally run` would, builds the metering topology and runs it (in this process). */
export async function startMeteringApp(document: Record<string, unknown>, decoderOptions: IngestDecoderOptions = {}): Promise<InProcessApp> {
  const config = parseConfig(JSON.stringify(document), 'test tally.yaml');
  const logs: string[] = [];
  const log = (level: string) => (message: string) => logs.push(`${new Date().toISOString()} ${level} ${message}`);
  const counters = createMeteringCounters();
  const decoder = createIngestDecoder(config, { onWarning: log('warn'), ...decoderOptions });
  const topology = buildMeteringTopology(config, { decoder, counters });
  const create = () =>
    createApp(topology, {
      applicationId: config.app.id,
      brokers: config.kafka.brokers,
      stateDir: config.app.stateDir,
      processingGuarantee: config.app.processingGuarantee,
      commitIntervalMs: config.app.commitIntervalMs,
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 1_000,
      logger: { info: log('info'), warn: log('warn'), error: log('error') },
    });
  const app = await startWithRetries(create, (m) => console.warn(m));
  await eventually('the metering app to be ready', () => app.ready || app.state === 'failed', () => logs.slice(-20).join('\n'), 60_000);
  if (app.state === 'failed') throw new Error(`the metering app failed to start:\n${logs.slice(-20).join('\n')}`);
  return { app, config, counters, logs };
}

// --- running a test: topics, output tails, the app, expectations ---

const cleanups: (() => Promise<void>)[] = [];

/** Register as `afterEach(runCleanups)`: stops tails and apps, removes state dirs (newest first). */
export async function runCleanups(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

export function onCleanup(cleanup: () => Promise<void>): void {
  cleanups.push(cleanup);
}

/**
 * Creates the topics the metering topology needs (the runner creates its internal ones).
 * Not with `waitForLeaders`: on a KRaft broker the metadata of a topic created a moment ago
 * can still answer UNKNOWN_TOPIC_OR_PARTITION, which kafkajs's wait does not retry.
 */
export async function createMeteringTopics(topics: MeteringTopics, eventPartitions: number): Promise<void> {
  const compact = [{ name: 'cleanup.policy', value: 'compact' }];
  const wanted = [
    { topic: topics.events, numPartitions: eventPartitions },
    { topic: topics.late, numPartitions: 1 },
    { topic: topics.deadLetter, numPartitions: 1 },
    { topic: topics.meters, numPartitions: 3, configEntries: compact },
    { topic: topics.customers, numPartitions: 1, configEntries: compact },
  ];
  await createTopicsWithLeaders(wanted);
}

/**
 * Creates `wanted` (replication 1) and waits until every partition has a
 * leader, retrying the metadata for up to 30 s (see createMeteringTopics for
 * why not `waitForLeaders`).
 */
export async function createTopicsWithLeaders(wanted: readonly { topic: string; numPartitions: number; configEntries?: { name: string; value: string }[] }[]): Promise<void> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: wanted.map((t) => ({ ...t, replicationFactor: 1 })), waitForLeaders: false });
    const names = wanted.map((t) => t.topic);
    let lastError = '';
    const led = async (): Promise<boolean> => {
      try {
        const { topics: described } = await admin.fetchTopicMetadata({ topics: names });
        return described.length === names.length && described.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      } catch (error) {
        lastError = (error as Error).message;
        return false;
      }
    };
    const deadline = Date.now() + 30_000;
    while (!(await led())) {
      if (Date.now() > deadline) throw new Error(`topics ${names.join(', ')} have no leaders after 30 s (${lastError})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await admin.disconnect();
  }
}

/** Malformed records, each with the reason the ingest must give it. */
export function malformedRecords(nowMs: number, subject: string): { value: Buffer | null; reason: string }[] {
  const ok = { specversion: '1.0', source: 'bad', type: 'llm.tokens', subject, time: new Date(nowMs - 15 * 60_000).toISOString() };
  const json = (o: object) => Buffer.from(JSON.stringify(o));
  return [
    { value: Buffer.from('not json at all'), reason: 'invalid-encoding' },
    { value: Buffer.alloc(0), reason: 'invalid-encoding' },
    { value: null, reason: 'invalid-encoding' },
    { value: Buffer.from('[1,2,3]'), reason: 'not-an-object' },
    { value: json({ ...ok, id: 'b1', subject: undefined, data: { tokens: 1, concurrency: 1 } }), reason: 'missing-field' },
    { value: json({ ...ok, id: 'b2', specversion: '0.3', data: { tokens: 1, concurrency: 1 } }), reason: 'unsupported-specversion' },
    { value: json({ ...ok, id: 'b3', time: 'yesterday', data: { tokens: 1, concurrency: 1 } }), reason: 'invalid-time' },
    { value: json({ ...ok, id: 'b4', time: new Date(nowMs + 3_600_000).toISOString(), data: { tokens: 1, concurrency: 1 } }), reason: 'future-time' },
    { value: json({ ...ok, id: 'b5', data: { tokens: 'abc', concurrency: 1 } }), reason: 'invalid-value' },
    { value: json({ ...ok, id: 'b6', data: { tokens: 1, concurrency: 'NaN' } }), reason: 'invalid-value' },
  ];
}

export function deadLetterKey(reason: string, value: Buffer | null): string {
  return `${reason}|${value === null ? 'null' : value.toString('base64')}`;
}

export interface Outputs {
  readonly meters: TopicTail;
  readonly late: TopicTail;
  readonly deadLetters: TopicTail;
}

export async function tailOutputs(topics: MeteringTopics): Promise<Outputs> {
  const outputs = { meters: await TopicTail.start(topics.meters), late: await TopicTail.start(topics.late), deadLetters: await TopicTail.start(topics.deadLetter) };
  cleanups.push(async () => {
    for (const tail of Object.values(outputs)) await tail.stop();
  });
  return outputs;
}

export async function startApp(topics: MeteringTopics, options: { registryUrl?: string; decoder?: IngestDecoderOptions; keyedBySubject?: boolean } = {}): Promise<InProcessApp> {
  const stateDir = await tempStateDir();
  const { registryUrl, keyedBySubject } = options;
  const document = configDocument({ appId: uniqueName('metering'), stateDir, topics, ...(registryUrl === undefined ? {} : { registryUrl }), ...(keyedBySubject === undefined ? {} : { keyedBySubject }) });
  const running = await startMeteringApp(document, options.decoder);
  cleanups.push(async () => {
    await running.app.close();
    await rm(stateDir, { recursive: true, force: true });
  });
  return running;
}

export async function expectMeters(outputs: Outputs, expected: Map<string, { value: string; count: number }>, running: InProcessApp): Promise<void> {
  await eventually('tally-meters to equal the truth', () => sameMap(expected, publishedMeters(outputs.meters)), () => `${mapDiff(expected, publishedMeters(outputs.meters))}\napp log:\n${running.logs.slice(-15).join('\n')}`, 60_000);
}

export async function expectExactly(tail: TopicTail, what: string, expected: string[], keyOf: (value: Record<string, unknown>) => string): Promise<void> {
  const actual = () => tail.parsed<Record<string, unknown>>().map(keyOf).sort();
  await eventually(what, () => actual().length >= expected.length, () => `expected ${expected.length}, got ${actual().length}: ${JSON.stringify(actual().slice(0, 10))}`, 60_000);
  expect(actual()).toEqual([...expected].sort());
}

