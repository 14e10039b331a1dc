/**
 * Against a real Apicurio Registry started by cli/local-cluster/local-registry.ts
 * (here, not in the global setup): the launcher, registering Tally's Avro
 * schemas with compatibility checks, and the Avro decoder's schema cache —
 * verdicts for ids the registry does not know, retries (never verdicts) for
 * a registry that does not answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRegistry, type LocalRegistry } from '../../cli/local-cluster/local-registry.js';
import { checkTallySchemas, connectSchemaRegistry, createIngestDecoder, registerTallySchemas, registrySchemaText, type RegistryConnection } from '../../processors/ingest/index.js';
import { cloudEventToAvro, loadAvroSchema } from '../../schemas/index.js';
import { uniqueName } from './kafka-helpers.js';
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

const topicsFor = (prefix: string) => {
  const id = uniqueName(prefix);
  return { events: `${id}-events`, meters: `${id}-meters`, billing: `${id}-billing`, late: `${id}-late`, deadLetter: `${id}-dead`, customers: `${id}-customers`, invoices: `${id}-invoices`, entitlements: `${id}-entitlements`, alerts: `${id}-alerts` };
};

const sample = cloudEventToAvro({ id: 'e1', source: 'svc', type: 'llm.tokens', subject: 'acme', time: '2024-01-01T00:00:00.000Z', data: { tokens: '1.5' } });

/** The usage event schema plus an optional field: what a producer might evolve to (FORWARD compatible). */
function usageEventV2(): object {
  const schema = loadAvroSchema('usageEvent') as { fields: object[] };
  return { ...schema, fields: [...schema.fields, { name: 'region', type: ['null', 'string'], default: null }] };
}

describe('the local Apicurio Registry', () => {
  it('answers the Confluent-compatible API on 127.0.0.1 with an empty, in-memory store', async () => {
    expect(registry.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/apis\/ccompat\/v7$/);
    expect(registry.running).toBe(true);
    expect(registry.timings.startMs).toBeGreaterThan(0);
    const { status, body } = await connection.call('GET', '/schemas/types');
    expect(status).toBe(200);
    expect(body).toContain('AVRO');
  });
});

describe("registering Tally's Avro schemas", () => {
  it('registers every schema once, sets compatibility on new subjects, and is idempotent', async () => {
    const topics = topicsFor('reg');
    const first = await registerTallySchemas(connection, topics);
    expect(first.map((r) => [r.subject, r.created])).toEqual([
      [`${topics.events}-value`, true],
      [`${topics.meters}-value`, true],
      [`${topics.deadLetter}-value`, true],
      [`${topics.late}-value`, true],
      [`${topics.billing}-value`, true],
    ]);
    const again = await registerTallySchemas(connection, topics);
    expect(again.map((r) => [r.id, r.created])).toEqual(first.map((r) => [r.id, false]));
    expect((await connection.call('GET', `/config/${topics.events}-value`)).body).toEqual({ compatibilityLevel: 'FORWARD_TRANSITIVE' });
    expect((await connection.call('GET', `/config/${topics.meters}-value`)).body).toEqual({ compatibilityLevel: 'FULL_TRANSITIVE' });
    expect(await checkTallySchemas(connection, topics)).toEqual([]);

    // The registry now guards the subjects: a required field added to the meter record is refused …
    const meter = loadAvroSchema('meterRecord') as { fields: object[] };
    const breaking = { ...meter, fields: [...meter.fields, { name: 'tenant', type: 'string' }] };
    expect((await connection.call('POST', `/subjects/${topics.meters}-value/versions`, { schema: JSON.stringify(breaking) })).status).toBe(409);
    // … and a producer's compatible evolution of the usage event is accepted.
    expect((await connection.call('POST', `/subjects/${topics.events}-value/versions`, { schema: registrySchemaText(usageEventV2()) })).status).toBe(200);
    expect(await checkTallySchemas(connection, topics)).toEqual([]);
  });

  it('refuses, before registering anything, when a subject already holds a schema Tally does not fit', async () => {
    const topics = topicsFor('clash');
    const foreign = { type: 'record', name: 'MeterRecord', namespace: 'tally', fields: [{ name: 'legacy', type: 'string' }] };
    expect((await connection.call('POST', `/subjects/${topics.meters}-value/versions`, { schema: JSON.stringify(foreign) })).status).toBe(200);
    expect((await connection.call('PUT', `/config/${topics.meters}-value`, { compatibility: 'BACKWARD' })).status).toBe(200);

    const problems = await checkTallySchemas(connection, topics);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`${topics.meters}-value`);
    await expect(registerTallySchemas(connection, topics)).rejects.toMatchObject({ code: 'schema-incompatible' });
    expect((await connection.call('GET', `/subjects/${topics.events}-value/versions/latest`)).status).toBe(404);
  });
});

describe('the Avro decoder and its schema cache', () => {
  it('decodes the wire format once the writer schema is fetched, and resolves an evolved producer schema', async () => {
    const topics = topicsFor('dec');
    const [usage, meters] = await registerTallySchemas(connection, topics, { include: ['usageEvent', 'meterRecord'] });
    const v2 = (await connection.call('POST', `/subjects/${topics.events}-value/versions`, { schema: registrySchemaText(usageEventV2()) })).body as { id: number };
    const decoder = createIngestDecoder({ schemaRegistry: { url: registry.url } });
    const v1Bytes = await connection.client.encode(usage?.id as number, sample);
    const v2Bytes = await connection.client.encode(v2.id, { ...sample, region: 'eu' });

    expect(decoder.decode(v1Bytes)).toEqual({ ok: 'pending', schemaId: usage?.id });
    await decoder.prepare?.(v1Bytes);
    expect(decoder.prepare?.(v1Bytes)).toBeUndefined(); // cached: nothing to wait for
    const expected = { specversion: '1.0', id: 'e1', source: 'svc', type: 'llm.tokens', subject: 'acme', time: '2024-01-01T00:00:00.000Z', data: { tokens: '1.5' } };
    expect(decoder.decode(v1Bytes)).toEqual({ ok: true, value: expected });
    await decoder.prepare?.(v2Bytes);
    expect(decoder.decode(v2Bytes)).toEqual({ ok: true, value: expected });

    // Verdicts: an id nobody registered, a schema that is not a usage event, bodies that do not decode.
    const unknown = Buffer.from(v1Bytes);
    unknown.writeUInt32BE(2_000_000_000, 1);
    const foreign = Buffer.from(v1Bytes);
    foreign.writeUInt32BE(meters?.id as number, 1);
    for (const bytes of [unknown, foreign]) await decoder.prepare?.(bytes);
    expect(decoder.decode(unknown)).toMatchObject({ ok: false, reason: 'unknown-schema' });
    expect(decoder.decode(foreign)).toMatchObject({ ok: false, reason: 'unknown-schema', message: expect.stringContaining('tally.MeterRecord') });
    expect(decoder.decode(Buffer.concat([v1Bytes.subarray(0, 5), Buffer.from('not avro at all')]))).toMatchObject({ ok: false, reason: 'invalid-encoding' });
    expect(decoder.decode(Buffer.from([0, 0, 1]))).toMatchObject({ ok: false, reason: 'invalid-encoding' });
    expect(decoder.decode(await connection.client.encode(usage?.id as number, { ...sample, data: 'not json' }))).toMatchObject({ ok: false, reason: 'invalid-encoding' });
    expect(decoder.decode(Buffer.from(JSON.stringify(expected)))).toEqual({ ok: true, value: expected });
  });

  it('treats a registry that does not answer as an outage: retries with back-off, then a retriable error, never a verdict', { timeout: 60_000 }, async () => {
    const topics = topicsFor('outage');
    const [usage] = await registerTallySchemas(connection, topics, { include: ['usageEvent'] });
    const bytes = await connection.client.encode(usage?.id as number, sample);
    const proxy = await RegistryProxy.start(registry.url);
    try {
      const warnings: string[] = [];
      const decoder = createIngestDecoder({ schemaRegistry: { url: proxy.urlFor(registry.url) } }, { maxWaitMs: 1_500, onWarning: (m) => warnings.push(m) });
      await proxy.cut();
      const t0 = Date.now();
      await expect(decoder.prepare?.(bytes)).rejects.toMatchObject({ code: 'schema-registry-unavailable', retriable: true });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1_400);
      expect(decoder.decode(bytes)).toEqual({ ok: 'pending', schemaId: usage?.id });
      expect(warnings.join('\n')).toContain('retrying with back-off');

      // An outage shorter than the wait is bridged without an error.
      const patient = createIngestDecoder({ schemaRegistry: { url: proxy.urlFor(registry.url) } }, { maxWaitMs: 20_000 });
      const waiting = patient.prepare?.(bytes);
      setTimeout(() => void proxy.restore(), 1_000);
      await waiting;
      expect(patient.decode(bytes)).toMatchObject({ ok: true });
      await decoder.prepare?.(bytes);
      expect(decoder.decode(bytes)).toMatchObject({ ok: true });
    } finally {
      await proxy.stop();
    }
  });

  it('does not believe a 404 from a URL that is not a registry API: the record waits, it is not dead-lettered', async () => {
    const decoder = createIngestDecoder({ schemaRegistry: { url: `${registry.url.replace('/apis/ccompat/v7', '')}/not-the-api` } }, { maxWaitMs: 500 });
    const bytes = Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), Buffer.from('x')]);
    await expect(decoder.prepare?.(bytes)).rejects.toMatchObject({ code: 'schema-registry-unavailable', message: expect.stringContaining('check schemaRegistry.url') });
    expect(decoder.decode(bytes)).toEqual({ ok: 'pending', schemaId: 1 });
  });
});
