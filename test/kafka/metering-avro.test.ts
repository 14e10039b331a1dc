/**
 * The metering topology on the real broker, exactly-once, with Avro input in
 * the schema registry wire format against a real Apicurio Registry (started
 * here, not in the global setup): Avro and JSON events on one topic meter
 * alike, bad Avro is dead-lettered with its reason, and a registry outage
 * holds records back — it never turns them into dead letters.
 */
import type { Message } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRegistry, type LocalRegistry } from '../../cli/local-cluster/local-registry.js';
import { connectSchemaRegistry, registerTallySchemas, registrySchemaText, type RegistryConnection } from '../../processors/ingest/index.js';
import { cloudEventToAvro, loadAvroSchema } from '../../schemas/index.js';
import { produce } from './kafka-helpers.js';
import { createMeteringTopics, deadLetterKey, eventually, expectExactly, expectMeters, publishedMeters, runCleanups, startApp, tailOutputs, uniqueTopics, type MeteringTopics } from './metering-fixtures.js';
import { generateEvents, lateTruth, meterTruth, type CloudEvent } from './metering-truth.js';
import { RegistryProxy } from './registry-proxy.js';

let registry: LocalRegistry;
let connection: RegistryConnection;
beforeAll(async () => {
  registry = await startLocalRegistry();
  connection = connectSchemaRegistry(registry.url);
}, 180_000);
afterAll(async () => {
  await registry?.stop();
});
afterEach(runCleanups);

const minuteMs = 60_000;

/** Registers Tally's schemas for these topics, plus a producer's evolution of the usage event (an extra optional field). */
async function registerSchemas(topics: MeteringTopics): Promise<{ v1: number; v2: number; meterRecord: number }> {
  const registered = await registerTallySchemas(connection, topics);
  const id = (name: string) => registered.find((r) => r.schemaName === name)?.id as number;
  const schema = loadAvroSchema('usageEvent') as { fields: object[] };
  const v2 = { ...schema, fields: [...schema.fields, { name: 'region', type: ['null', 'string'], default: null }] };
  const { status, body } = await connection.call('POST', `/subjects/${topics.events}-value/versions`, { schema: registrySchemaText(v2) });
  expect(status).toBe(200);
  return { v1: id('usageEvent'), v2: (body as { id: number }).id, meterRecord: id('meterRecord') };
}

async function avro(schemaId: number, event: CloudEvent | Record<string, unknown>, extra: object = {}): Promise<Buffer> {
  return connection.client.encode(schemaId, { ...cloudEventToAvro(event as CloudEvent), ...extra });
}

function withSchemaId(bytes: Buffer, schemaId: number): Buffer {
  const copy = Buffer.from(bytes);
  copy.writeUInt32BE(schemaId, 1);
  return copy;
}

describe('the metering pipeline on Kafka with Avro input (Apicurio Registry)', () => {
  it('meters Avro (two schema versions) and JSON events alike, routes late Avro events, and dead-letters unknown schemas and undecodable Avro', { timeout: 150_000 }, async () => {
    const topics = uniqueTopics('avro');
    await createMeteringTopics(topics, 3);
    const ids = await registerSchemas(topics);
    const outputs = await tailOutputs(topics);
    const running = await startApp(topics, { registryUrl: registry.url });

    const nowMs = Date.now();
    const fromMs = Math.floor((nowMs - 20 * minuteMs) / minuteMs) * minuteMs;
    const events = generateEvents({ count: 1500, subjects: 15, fromMs, toMs: fromMs + 10 * minuteMs, seed: 5, idPrefix: 'a' });
    const messages: Message[] = [];
    for (const [i, event] of events.entries()) {
      const value = i % 3 === 0 ? Buffer.from(JSON.stringify(event)) : i % 3 === 1 ? await avro(ids.v1, event) : await avro(ids.v2, event, { region: 'eu' });
      messages.push({ key: `k-${i}`, value });
      // A copy in the other encoding is still the same event: it counts once.
      if (i % 10 === 5) messages.push({ key: `copy-${i}`, value: i % 3 === 0 ? await avro(ids.v1, event) : Buffer.from(JSON.stringify(event)) });
    }
    const valid = events[0] as CloudEvent;
    const bad: { value: Buffer; reason: string }[] = [
      { value: withSchemaId(await avro(ids.v1, valid), 2_000_000_000), reason: 'unknown-schema' },
      { value: withSchemaId(await avro(ids.v1, valid), ids.meterRecord), reason: 'unknown-schema' }, // registered, but not a usage event
      { value: Buffer.concat([(await avro(ids.v1, valid)).subarray(0, 5), Buffer.from('garbage, not an Avro body')]), reason: 'invalid-encoding' },
      { value: Buffer.from([0, 0, 1]), reason: 'invalid-encoding' },
      { value: await avro(ids.v1, { ...valid, id: 'bad-data' }, { data: 'not json' }), reason: 'invalid-encoding' },
      { value: await avro(ids.v1, { ...valid, id: 'bad-subject', subject: '' }), reason: 'missing-field' },
      { value: await avro(ids.v2, { ...valid, id: 'bad-tokens', type: 'llm.tokens', data: { tokens: 'abc', concurrency: 1 } }), reason: 'invalid-value' },
    ];
    bad.forEach((b, i) => messages.splice(131 * (i + 1), 0, { key: `bad-${i}`, value: b.value }));
    await produce(topics.events, messages);

    await expectMeters(outputs, meterTruth(events), running);

    // Once those are in, Avro events three hours old are late for every meter that reads them.
    const late = generateEvents({ count: 20, subjects: 15, fromMs: nowMs - 3 * 60 * minuteMs, toMs: nowMs - 3 * 60 * minuteMs + 5 * minuteMs, seed: 6, idPrefix: 'late' });
    await produce(topics.events, await Promise.all(late.map(async (e, i) => ({ key: `late-${i}`, value: await avro(i % 2 === 0 ? ids.v1 : ids.v2, e) }))));
    await expectExactly(outputs.late, 'the late events', lateTruth(late), (v) => `${v['meter'] as string}|${(v['event'] as { id: string }).id}`);
    expect(publishedMeters(outputs.meters)).toEqual(meterTruth(events));
    await expectExactly(outputs.deadLetters, 'the dead letters', bad.map((b) => deadLetterKey(b.reason, b.value)), (v) => deadLetterKey(v['reason'] as string, Buffer.from(v['value'] as string, 'base64')));
    expect(running.counters.duplicates).toBe(events.filter((_, i) => i % 10 === 5).length);
  });

  it('with input keyed by subject (no repartition), fetches schemas the timestamp extractor found missing, and meters exactly', { timeout: 120_000 }, async () => {
    const topics = uniqueTopics('keyed');
    await createMeteringTopics(topics, 3);
    const ids = await registerSchemas(topics);
    const outputs = await tailOutputs(topics);
    const running = await startApp(topics, { registryUrl: registry.url, keyedBySubject: true });
    const nowMs = Date.now();
    const fromMs = Math.floor((nowMs - 20 * minuteMs) / minuteMs) * minuteMs;
    const events = generateEvents({ count: 600, subjects: 12, fromMs, toMs: fromMs + 5 * minuteMs, seed: 21, idPrefix: 'keyed' });
    // Keyed by subject with the producer's default (murmur2) partitioner, as keyedBySubject requires.
    const messages = await Promise.all(events.map(async (e, i) => ({ key: e.subject, value: i % 2 === 0 ? await avro(ids.v1, e) : await avro(ids.v2, e, { region: 'eu' }) })));
    await produce(topics.events, messages);
    await expectMeters(outputs, meterTruth(events), running);
    expect(outputs.deadLetters.records).toEqual([]);
  });

  it('holds Avro events back while the registry is down, and meters them exactly once it is back', { timeout: 150_000 }, async () => {
    const topics = uniqueTopics('outage');
    await createMeteringTopics(topics, 2);
    const ids = await registerSchemas(topics);
    const proxy = await RegistryProxy.start(registry.url);
    try {
      const outputs = await tailOutputs(topics);
      // A short wait, so the outage also outlasts it: the record is then failed (retriable) and redelivered.
      const running = await startApp(topics, { registryUrl: proxy.urlFor(registry.url), decoder: { maxWaitMs: 2_000, maxBackoffMs: 500 } });
      const nowMs = Date.now();
      const fromMs = Math.floor((nowMs - 20 * minuteMs) / minuteMs) * minuteMs;
      const before = generateEvents({ count: 300, subjects: 10, fromMs, toMs: fromMs + 5 * minuteMs, seed: 11, idPrefix: 'before' });
      await produce(topics.events, await Promise.all(before.map(async (e, i) => ({ key: `b-${i}`, value: i % 2 === 0 ? await avro(ids.v1, e) : Buffer.from(JSON.stringify(e)) }))));
      await expectMeters(outputs, meterTruth(before), running);

      // Down: events written with a schema version the app has not seen yet, mixed with JSON ones.
      await proxy.cut();
      const during = generateEvents({ count: 300, subjects: 10, fromMs, toMs: fromMs + 5 * minuteMs, seed: 12, idPrefix: 'during' });
      await produce(topics.events, await Promise.all(during.map(async (e, i) => ({ key: `d-${i}`, value: i % 2 === 0 ? await avro(ids.v2, e, { region: 'us' }) : Buffer.from(JSON.stringify(e)) }))));
      await eventually('the app to notice the outage', () => running.logs.some((l) => l.includes('retrying with back-off')), () => running.logs.slice(-10).join('\n'), 30_000);
      await new Promise((r) => setTimeout(r, 6_000));
      expect(running.logs.some((l) => l.includes('failing the record'))).toBe(true);
      expect(outputs.deadLetters.records).toEqual([]);
      expect(running.app.state).not.toBe('failed');

      await proxy.restore();
      await expectMeters(outputs, meterTruth([...before, ...during]), running);
      expect(outputs.deadLetters.records).toEqual([]);
      expect(running.counters.deadLetters['unknown-schema']).toBe(0);
      expect(publishedMeters(outputs.meters).size).toBeGreaterThan(0);
    } finally {
      await proxy.stop();
    }
  });
});
