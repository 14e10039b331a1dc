/**
 * The usage client against the run's real broker: events arrive as
 * CloudEvents keyed by subject, bad events are refused before the outbox,
 * unsent events survive a close, and the counts reconcile.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createUsageClient, InvalidUsageEventError, type UsageClient, type UsageClientOptions } from '../../client/index.js';
import { freePort } from '../../cli/local-cluster/local-kafka.js';
import { ConfigError } from '../../schemas/index.js';
import { partitionForKey } from '../../topology/internal/partitioner.js';
import { brokers, createTopics, readTopic, uniqueName } from '../kafka/kafka-helpers.js';
import { poisonEvents } from '../fixtures/poison-events.js';

const quietLogger = { info: () => undefined, warn: () => undefined };
let workDir: string;
const openClients: UsageClient[] = [];

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'tally-usage-client-'));
});
afterEach(async () => {
  for (const client of openClients.splice(0)) await client.close();
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

async function newTopic(partitions = 3): Promise<string> {
  const topic = uniqueName('usage');
  await createTopics({ [topic]: partitions });
  return topic;
}

async function openClient(options: Partial<UsageClientOptions> & { topic: string }): Promise<UsageClient> {
  const client = createUsageClient({ brokers: brokers(), source: 'test-app', outboxDir: join(workDir, uniqueName('outbox')), lingerMs: 5, logger: quietLogger, ...options });
  openClients.push(client);
  await client.open();
  return client;
}

describe('usage client', () => {
  it('sends recorded events as CloudEvents keyed by subject, on the default partitioner\'s partition', async () => {
    const topic = await newTopic();
    const client = await openClient({ topic });
    const subjects = ['acme-prod', 'acme-dev', 'globex'];
    const recorded = [];
    for (let i = 0; i < 30; i++) {
      recorded.push(await client.record({ type: 'api.request', subject: subjects[i % 3] as string, data: { route: `/r${i}` }, time: Date.UTC(2024, 0, 1, 0, 0, i) }));
    }
    await client.flush();

    const records = await readTopic(topic);
    expect(records).toHaveLength(30);
    for (const record of records) {
      const value = JSON.parse(record.value ?? 'null') as Record<string, unknown>;
      expect(record.key).toBe(value.subject);
      expect(record.partition).toBe(partitionForKey(Buffer.from(record.key ?? ''), 3));
      expect(value).toMatchObject({ specversion: '1.0', source: 'test-app', type: 'api.request', datacontenttype: 'application/json' });
      expect(value.time).toMatch(/^2024-01-01T00:00:\d{2}\.000Z$/);
    }
    const byId = new Map(records.map((r) => [(JSON.parse(r.value ?? 'null') as { id: string }).id, r]));
    expect([...byId.keys()].sort()).toEqual(recorded.map((e) => e.id).sort());
    expect(JSON.parse(byId.get(recorded[4]?.id ?? '')?.value ?? 'null')).toMatchObject({ subject: 'acme-dev', data: { route: '/r4' }, time: '2024-01-01T00:00:04.000Z' });
    expect(client.stats()).toMatchObject({ recorded: 30, sent: 30, pending: 0, pendingAtOpen: 0, sendFailures: 0 });
  });

  it('refuses an invalid event with the field and reason, and never sends it', async () => {
    const topic = await newTopic(1);
    const client = await openClient({ topic });
    const refusal = (input: Parameters<UsageClient['record']>[0]) => client.record(input).then(() => 'accepted', (error: unknown) => error);

    await expect(refusal({ type: 'api.request', subject: '' })).resolves.toMatchObject({ reason: 'missing-field', message: expect.stringContaining('subject is empty') });
    await expect(refusal({ type: 'api.request', subject: 's', data: [1, 2] as unknown as Record<string, unknown> })).resolves.toMatchObject({
      reason: 'invalid-field',
      message: expect.stringContaining('data must be a JSON object'),
    });
    await expect(refusal({ type: 'api.request', subject: 's', time: 'yesterday' })).resolves.toMatchObject({ reason: 'invalid-time', message: expect.stringContaining('time "yesterday"') });
    await expect(refusal({ type: 'api.request', subject: 's', time: Date.now() + 3_600_000 })).resolves.toMatchObject({ reason: 'future-time' });
    await expect(refusal({ type: 'api.request', subject: 's', data: { n: 1n } })).resolves.toMatchObject({ message: expect.stringContaining('data cannot be written as JSON') });
    const error = await refusal({ type: 42 as unknown as string, subject: 's' });
    expect(error).toBeInstanceOf(InvalidUsageEventError);
    expect((error as Error).message).toBe('usage event rejected (invalid-field): type must be a string, got 42');
    expect(client.stats()).toMatchObject({ recorded: 0, pending: 0 });

    const valid = await client.record({ type: 'api.request', subject: 's', id: 'the-only-one' });
    await client.flush();
    expect((await readTopic(topic)).map((r) => (JSON.parse(r.value ?? 'null') as { id: string }).id)).toEqual([valid.id]);
  });

  it('refuses events that would poison the pipeline with the reason POST /v1/events gives, and never sends them', async () => {
    const topic = await newTopic(1);
    const client = await openClient({ topic });
    for (const poison of poisonEvents) {
      const input = { type: poison.type, subject: poison.subject, data: JSON.parse(poison.dataText) as Record<string, unknown>, ...(poison.id === undefined ? {} : { id: poison.id }) };
      const error = await client.record(input).then(() => undefined, (e: unknown) => e);
      expect(error, poison.label).toBeInstanceOf(InvalidUsageEventError);
      expect(error, poison.label).toMatchObject({ reason: poison.reason, message: expect.stringContaining(poison.says) });
    }
    expect(client.stats()).toMatchObject({ recorded: 0, pending: 0 });
    await client.record({ type: 'api.request', subject: 'acme', id: 'the-good-one' });
    await client.flush();
    expect((await readTopic(topic)).map((r) => (JSON.parse(r.value ?? 'null') as { id: string }).id)).toEqual(['the-good-one']);
  });

  it('keeps events it could not send across a close, and sends them after the next open', async () => {
    const topic = await newTopic();
    const outboxDir = join(workDir, uniqueName('outbox'));
    const nobodyListens = `127.0.0.1:${await freePort()}`;
    const offline = await openClient({ topic, outboxDir, brokers: [nobodyListens], backoff: { initialMs: 50, maxMs: 200 } });
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push((await offline.record({ type: 'api.request', subject: `s${i % 4}` })).id);
    await expect(offline.flush(1_500)).rejects.toThrow(/flush timed out after 1500 ms: 25 events are still in the outbox/);
    const offlineStats = offline.stats();
    expect(offlineStats).toMatchObject({ recorded: 25, sent: 0, pending: 25 });
    expect(offlineStats.sendFailures).toBeGreaterThan(0);
    expect(offlineStats.lastError).toEqual(expect.any(String));
    await offline.close();
    await expect(offline.record({ type: 'api.request', subject: 's' })).rejects.toThrow(/the client is closed/);

    const online = await openClient({ topic, outboxDir });
    expect(online.stats()).toMatchObject({ pendingAtOpen: 25, recorded: 0 });
    ids.push((await online.record({ type: 'api.request', subject: 'later' })).id);
    await online.flush();
    const stats = online.stats();
    expect(stats).toMatchObject({ pendingAtOpen: 25, recorded: 1, sent: 26, pending: 0, sendFailures: 0 });
    expect(stats.pendingAtOpen + stats.recorded).toBe(stats.sent + stats.pending);

    const sentIds = (await readTopic(topic)).map((r) => (JSON.parse(r.value ?? 'null') as { id: string }).id);
    expect(sentIds.sort()).toEqual([...ids].sort());
  });

  it('refuses to open an outbox another client holds', async () => {
    const topic = await newTopic(1);
    const outboxDir = join(workDir, uniqueName('outbox'));
    await openClient({ topic, outboxDir });
    const second = createUsageClient({ brokers: brokers(), topic, source: 'test-app', outboxDir, logger: quietLogger });
    await expect(second.open()).rejects.toThrow(`the outbox at ${outboxDir} is in use by another usage client`);
  });

  it('reports every bad option at once, naming it', () => {
    const attempt = () => createUsageClient({ brokers: [], source: '', outboxDir: '', batchSize: 0, backoff: { jitter: 2 } });
    expect(attempt).toThrow(ConfigError);
    expect(() => attempt()).toThrow(/usage client brokers: give at least one[\s\S]*usage client source: required[\s\S]*usage client outboxDir: required[\s\S]*batchSize[\s\S]*backoff.jitter/);
  });
});
