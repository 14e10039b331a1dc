/**
 * Poison pills: events that a later stage could not store or encode (a lone
 * UTF-16 surrogate in a key, data nested thousands of levels deep, a NUL in a
 * subject, a key part too long) are dead-lettered at ingest with a clear
 * reason — the task never fails on them, and the next events still count.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { MeterConfig } from '../../schemas/config-types.js';
import { buildMeteringTopology } from '../../processors/index.js';
import { cloudEventToAvro, eventLimits, isWellFormedText, usageEventAvro } from '../../schemas/index.js';
import { classifyEvent, jsonOrAvroEventDecoder, type WriterSchemaCache } from '../../processors/ingest/index.js';
import { compileMeterPlans } from '../../processors/meter-plan.js';
import { MeteringHarness, cloudEvent, meteringConfig, t0 } from './metering-harness.js';
import { ratingConfig } from './rating-harness.js';

let harness: MeteringHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const meters: MeterConfig[] = [
  { slug: 'api_requests', eventType: 'api.request', aggregation: 'COUNT', groupBy: { route: '$.route' } },
  { slug: 'seats', eventType: 'seats.set', aggregation: 'LATEST', valueProperty: '$.seats', groupBy: {} },
  { slug: 'users', eventType: 'user.seen', aggregation: 'UNIQUE_COUNT', valueProperty: '$.user', groupBy: {} },
];

/** JSON text of an event whose data nests `levels` levels deep (built as text: JSON.stringify itself overflows). */
function deepEventText(levels: number): string {
  const text = JSON.stringify(cloudEvent({ timeMs: t0, data: '__DEEP__' as unknown as Record<string, unknown> }));
  return text.replace('"__DEEP__"', '{"d":'.repeat(levels - 1) + '{"route":"/deep"}' + '}'.repeat(levels - 1));
}

/** Pipes `bad`, then a valid event; the bad one must be the only dead letter and the valid one must count. */
async function refusedThenCarriesOn(bad: Record<string, unknown> | string, options: { keyedBySubject?: boolean } = {}) {
  harness = await MeteringHarness.start(meteringConfig({ meters }), options);
  await harness.pipe(bad);
  await harness.pipe(cloudEvent({ timeMs: t0 + 1, data: { route: '/ok' } }));
  const dead = harness.deadLetters();
  expect(dead).toHaveLength(1);
  expect(harness.meters().at(-1)).toMatchObject({ meter: 'api_requests', groupBy: { route: '/ok' }, value: '1' });
  expect(harness.counters.eventsAccepted).toBe(1);
  return dead[0];
}

describe('ingest: strings a later stage cannot store are dead letters, not a crash loop', () => {
  it.each([
    ['subject', { subject: 'c0\ud800' }, 'subject', 'U+D800 at index 2'],
    ['source', { source: 'billing\udc00' }, 'source', 'U+DC00 at index 7'],
    ['id', { id: '\ud83d-1' }, 'id', 'U+D83D at index 0'],
    ['type', { type: 'api.request\ud800' }, 'type', 'U+D800 at index 11'],
    ['a group-by value', { data: { route: '/a\ud800' } }, 'data.route', 'U+D800 at index 2'],
    ['a LATEST value', { type: 'seats.set', data: { seats: '12\ud800' } }, 'data.seats', 'U+D800 at index 2'],
    ['a UNIQUE_COUNT value', { type: 'user.seen', data: { user: 'ann\udfff' } }, 'data.user', 'U+DFFF at index 3'],
    ['a member name in data', { data: { ['r\ud800']: 1 } }, 'member name at data', 'U+D800 at index 1'],
    ['an extension attribute', { tenant: 'x\ud800' }, 'tenant', 'U+D800 at index 1'],
  ])('a lone surrogate in %s: invalid-field, naming it', async (_what, fields, where, detail) => {
    const dead = await refusedThenCarriesOn(cloudEvent({ timeMs: t0, ...fields }));
    expect(dead).toMatchObject({ reason: 'invalid-field', topic: 'usage-events', offset: '0' });
    expect(dead?.message).toContain(`${where} holds a lone UTF-16 surrogate (${detail})`);
    expect(dead?.message).toContain('send well-formed Unicode');
    // The dead letter itself is well-formed: its message quotes the bad text escaped.
    expect(isWellFormedText(JSON.stringify(dead))).toBe(true);
  });

  it('a lone surrogate in the subject is refused when the input is keyed by subject too (one sub-topology)', async () => {
    const dead = await refusedThenCarriesOn(cloudEvent({ timeMs: t0, subject: 'c0\ud800' }), { keyedBySubject: true });
    expect(dead).toMatchObject({ reason: 'invalid-field', message: expect.stringContaining('subject holds a lone UTF-16 surrogate') });
  });

  it('a NUL in the subject (the meter store key separator): invalid-field', async () => {
    const dead = await refusedThenCarriesOn(cloudEvent({ timeMs: t0, subject: 'acme\u0000prod' }));
    expect(dead).toMatchObject({ reason: 'invalid-field', message: expect.stringContaining('subject contains the control character U+0000 at index 4') });
  });

  it(`attribute values of up to ${eventLimits.maxTextBytes} UTF-8 bytes are accepted, longer ones refused`, async () => {
    harness = await MeteringHarness.start(meteringConfig({ meters }));
    const longest = 'é'.repeat(eventLimits.maxTextBytes / 2); // 2 bytes each in UTF-8
    await harness.pipe(cloudEvent({ timeMs: t0, subject: longest }));
    await harness.pipe(cloudEvent({ timeMs: t0, subject: `${longest}x` }));
    expect(harness.deadLetters()).toEqual([expect.objectContaining({ reason: 'invalid-field', offset: '1', message: expect.stringContaining(`subject is ${eventLimits.maxTextBytes + 1} bytes in UTF-8`) })]);
    expect(harness.meters()).toEqual([expect.objectContaining({ subject: longest, value: '1' })]);
  });

  it('a group-by value longer than the limit: invalid-value naming the meter', async () => {
    const dead = await refusedThenCarriesOn(cloudEvent({ timeMs: t0, data: { route: 'r'.repeat(eventLimits.maxTextBytes + 1) } }));
    expect(dead).toMatchObject({ reason: 'invalid-value', meter: 'api_requests', message: expect.stringContaining(`group-by route ($.route) is ${eventLimits.maxTextBytes + 1} bytes`) });
  });
});

describe('ingest: data nested too deep is a dead letter, not a stack overflow', () => {
  it('5,000 levels of data: too-deep, and the next event still counts', async () => {
    const text = deepEventText(5_000);
    expect(text.length).toBeGreaterThan(25_000);
    const dead = await refusedThenCarriesOn(text);
    expect(dead).toMatchObject({ reason: 'too-deep', value: Buffer.from(text).toString('base64') });
    expect(dead?.message).toContain(`nested more than ${eventLimits.maxDepth} levels`);
    expect(dead?.message).toContain('flatten the event');
  });

  it(`accepts data exactly ${eventLimits.maxDepth} levels deep and refuses one level more`, async () => {
    harness = await MeteringHarness.start(meteringConfig({ meters }));
    await harness.pipe(deepEventText(eventLimits.maxDepth));
    await harness.pipe(deepEventText(eventLimits.maxDepth + 1));
    expect(harness.deadLetters().map((d) => [d.reason, d.offset])).toEqual([['too-deep', '1']]);
    expect(harness.counters.eventsAccepted).toBe(1);
  });

  it('an array of arrays nests as deep as objects do', async () => {
    const text = JSON.stringify(cloudEvent({ timeMs: t0, data: { list: '__DEEP__' } })).replace('"__DEEP__"', '['.repeat(5_000) + ']'.repeat(5_000));
    const dead = await refusedThenCarriesOn(text);
    expect(dead).toMatchObject({ reason: 'too-deep', message: expect.stringContaining('data.list[0][0]') });
  });
});

describe('ingest: Avro events meet the same rules', () => {
  const readable: WriterSchemaCache = {
    lookup: (id) => ({ kind: 'readable', id, name: 'tally.UsageEvent', read: (body) => usageEventAvro.type.fromBuffer(body) }),
    load: async () => undefined,
  };
  const settings = { decoder: jsonOrAvroEventDecoder({ schemas: readable }), maxFutureSkewMs: 300_000, plans: compileMeterPlans(meters) };
  const wire = (event: Parameters<typeof cloudEventToAvro>[0], data?: string): Buffer => {
    const avro = { ...cloudEventToAvro(event), ...(data === undefined ? {} : { data }) };
    const header = Buffer.alloc(5);
    header.writeUInt32BE(7, 1);
    return Buffer.concat([header, usageEventAvro.encode(avro)]);
  };
  const base = { id: 'a1', source: 'avro', type: 'api.request', subject: 'acme', time: new Date(t0).toISOString() };
  const outcome = (value: Buffer) => {
    const result = classifyEvent(value, t0, settings);
    return result.kind === 'dead-letter' ? result.failure : result.kind;
  };

  it('accepts a well-formed Avro event', () => {
    expect(outcome(wire({ ...base, data: { route: '/a' } }))).toBe('valid');
  });

  it('refuses data nested 5,000 levels deep (JSON text inside the Avro record): too-deep', () => {
    const deep = '{"d":'.repeat(5_000) + '1' + '}'.repeat(5_000);
    expect(outcome(wire(base, deep))).toMatchObject({ reason: 'too-deep' });
  });

  it('refuses a lone surrogate escaped in the data text: invalid-field', () => {
    expect(outcome(wire(base, '{"route":"/a\\ud800"}'))).toMatchObject({ reason: 'invalid-field', message: expect.stringContaining('data.route holds a lone UTF-16 surrogate') });
  });
});

describe('metering topology: every source has the dead-letter topic, so the runtime backstop applies', () => {
  it('a record that reaches the meter aggregate and fails there is dead-lettered (processing-failed); later events count', async () => {
    harness = await MeteringHarness.start(meteringConfig({ meters }));
    // Bypass the ingest, as a bug (or a rule it missed) would: a subject the meter store cannot key.
    const repartition = 'tally-events-by-subject-repartition';
    const event = { specversion: '1.0', id: 'sneaky', source: 'test', type: 'api.request', subject: 'c0\ud800', time: new Date(t0).toISOString(), timeMs: t0, data: {} };
    await harness.driver.pipeRaw(repartition, Buffer.from('c0'), Buffer.from(JSON.stringify({ event, offset: 0 })), { timestampMs: t0 });
    await harness.pipe(cloudEvent({ timeMs: t0 + 1, data: { route: '/ok' } }));
    const [dead, ...more] = harness.deadLetters();
    expect(more).toEqual([]);
    expect(dead).toMatchObject({
      reason: 'processing-failed',
      topic: repartition,
      partition: 0,
      offset: '0',
      message: expect.stringContaining('in node "aggregate-meters" failed: store key'),
    });
    expect(harness.meters().at(-1)).toMatchObject({ groupBy: { route: '/ok' }, value: '1' });
  });

  it('sets the dead-letter topic on the sources of every sub-topology, rating included', () => {
    const topology = buildMeteringTopology(ratingConfig());
    const sources = topology.subtopologies.flatMap((sub) => sub.nodes).filter((node) => node.kind === 'source');
    expect(sources.length).toBeGreaterThanOrEqual(4);
    expect(sources.map((node) => [node.name, node.kind === 'source' ? node.deadLetterTopic : undefined])).toEqual(sources.map((node) => [node.name, 'tally-dead-letter']));
  });
});
