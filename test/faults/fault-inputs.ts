/**
 * What a fault scenario sends to `usage-events`, each record labelled with
 * what it is: valid usage (`on-time`, copies included), usage sent past grace
 * (`late`), or a poison record with the dead-letter reason it must get. The
 * reference (reference.ts) reads these labels; the pipeline sees only bytes.
 */
import type { DeadLetterReason } from '../../schemas/records.js';
import { uniqueName } from '../kafka/kafka-helpers.js';
import { generateEvents, seededRandom, windowMs, type CloudEvent } from '../kafka/metering-truth.js';
import type { EntitlementConfig } from '../../schemas/config-types.js';
import { testCustomers, type TestCustomer } from '../kafka/rating-truth.js';

/** A scenario's customer: the rating test's, with a token allowance per period. */
export type FaultCustomer = TestCustomer & { readonly entitlements: readonly EntitlementConfig[] };

/**
 * Every customer's allowance: 1,000,000 tokens a period, alerting at 1, 10,
 * 50 and 100 % (a scenario's few hundred thousand tokens a customer reach some
 * of them, depending on its size) and at 100000 %, which nothing reaches.
 */
export const faultEntitlement: EntitlementConfig = { key: 'tokens-monthly', meter: 'tokens', limit: '1000000', alerts: [1, 10, 50, 100, 100000] };

export type SentRecord =
  | { readonly kind: 'on-time' | 'late'; readonly key: string; readonly value: Buffer; readonly event: CloudEvent }
  | { readonly kind: 'poison'; readonly key: string; readonly value: Buffer | null; readonly reason: DeadLetterReason; readonly label: string };

/** Allowed lateness of every scenario's config (configDocument's `ingest.allowedLateness`). */
export const allowedLatenessMs = 3_600_000;

/** Who uses what, and when: four customers (two zones) of two subjects each; usage over ten minutes, 20 to 10 minutes ago. */
export interface Workload {
  readonly customers: readonly FaultCustomer[];
  readonly subjects: readonly string[];
  readonly fromMs: number;
  readonly toMs: number;
  /** The late storm's event times: three hours ago, far past allowedLateness behind any on-time event. */
  readonly lateFromMs: number;
}

export function createWorkload(scenario: string, nowMs = Date.now()): Workload {
  const prefix = uniqueName(scenario);
  const customers = [...testCustomers(nowMs, `${prefix}-a`), ...testCustomers(nowMs, `${prefix}-b`)].map((c) => ({ ...c, entitlements: [faultEntitlement] }));
  const fromMs = Math.floor((nowMs - 20 * windowMs) / windowMs) * windowMs;
  return { customers, subjects: customers.flatMap((c) => c.subjects), fromMs, toMs: fromMs + 10 * windowMs, lateFromMs: fromMs - 3 * allowedLatenessMs };
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

/** `count` valid events (api.request and llm.tokens) as JSON, each with its own Kafka key, so they spread over the input partitions. */
export function onTimeRecords(workload: Workload, options: { count: number; seed: number; idPrefix: string }): SentRecord[] {
  const events = generateEvents({ ...options, subjects: workload.subjects, fromMs: workload.fromMs, toMs: workload.toMs });
  return events.map((event, i) => ({ kind: 'on-time', key: `${options.idPrefix}-k${i}`, value: json(event), event }));
}

/** Events stamped three hours before the on-time traffic (ten minutes of it), on the workload's subjects. */
export function lateRecords(workload: Workload, options: { count: number; seed: number; idPrefix: string }): SentRecord[] {
  const events = generateEvents({ ...options, subjects: workload.subjects, fromMs: workload.lateFromMs, toMs: workload.lateFromMs + 10 * windowMs });
  return events.map((event, i) => ({ kind: 'late', key: `${options.idPrefix}-k${i}`, value: json(event), event }));
}

/**
 * The records keyed by their event's id (poison records keep their own keys):
 * each input partition then holds usage of every subject, so every ingest
 * task writes to every partition of the subject-keyed repartition topic, and
 * each of those partitions interleaves the transactions of all instances.
 */
export function keyedByEventId(records: readonly SentRecord[]): SentRecord[] {
  return records.map((r) => (r.kind === 'poison' ? r : { ...r, key: r.event.id }));
}

/**
 * Every record `copies` times, each copy under its own Kafka key (so copies
 * land on different input partitions and race each other), copy c placed up
 * to c × `spread` records after the original. Poison records are sent once.
 */
export function interleaveCopies(records: readonly SentRecord[], copies: number, spread: number, seed: number): SentRecord[] {
  const random = seededRandom(seed);
  const placed: { at: number; record: SentRecord }[] = [];
  records.forEach((record, i) => {
    placed.push({ at: i, record });
    if (record.kind === 'poison') return;
    for (let c = 1; c < copies; c++) placed.push({ at: i + random() * spread * c, record: { ...record, key: `${record.key}~${c}` } });
  });
  return placed.sort((a, b) => a.at - b.at).map((p) => p.record);
}

/** About `fraction` of the records copied once more, a little later (a producer retrying). */
export function withRetries(records: readonly SentRecord[], fraction: number, seed: number): SentRecord[] {
  const random = seededRandom(seed);
  const chosen = records.filter((r) => r.kind !== 'poison' && random() < fraction);
  return mixIn(records, chosen.map((r) => ({ ...r, key: `${r.key}~retry` })), seed + 1);
}

/** `extra` spread over `records` at seeded positions (order within each list kept). */
export function mixIn(records: readonly SentRecord[], extra: readonly SentRecord[], seed: number): SentRecord[] {
  const random = seededRandom(seed);
  const positions = extra.map(() => random() * records.length).sort((a, b) => a - b);
  const mixed: SentRecord[] = [];
  let next = 0;
  records.forEach((record, i) => {
    for (; next < extra.length && (positions[next] as number) <= i; next++) mixed.push(extra[next] as SentRecord);
    mixed.push(record);
  });
  return [...mixed, ...extra.slice(next)];
}

/** An Avro wire-format header (magic byte 0, schema id) before some bytes. */
function wireFormat(schemaId: number, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

/** How deep the nested-data pill nests: far past what any stage should recurse into. */
const nestingDepth = 5_000;

/** An otherwise valid llm.tokens event whose `data` nests `nestingDepth` objects deep (built as text: no recursion here). */
function nestedData(id: string, ok: object): Buffer {
  const nested = `${'{"d":'.repeat(nestingDepth)}1${'}'.repeat(nestingDepth)}`;
  return Buffer.from(JSON.stringify({ ...ok, id, data: { tokens: 1, concurrency: 3, nested: 0 } }).replace('"nested":0', `"nested":${nested}`));
}

/**
 * The poison stream: one record per way an input can be bad, each with the
 * one reason the ingest gives it (docs/metering.md). `twins` are valid events
 * sent elsewhere in the scenario: a poisoned copy of one (same source and id)
 * must not shadow it, since invalid events never reach dedupe.
 *
 * `withRegistry`: with a schema registry, wire-format bytes of an unknown
 * schema id are `unknown-schema`; without one the JSON decoder reads them,
 * and a NUL byte is not JSON: `invalid-encoding`.
 */
export function poisonRecords(workload: Workload, options: { idPrefix: string; withRegistry: boolean; twins: readonly CloudEvent[] }): SentRecord[] {
  const subject = workload.subjects[0] as string;
  const ok = { specversion: '1.0', source: 'poison', type: 'llm.tokens', subject, time: new Date(workload.fromMs + 90_000).toISOString() };
  const tokens = (id: string, value: unknown, extra: object = {}) => json({ ...ok, id: `${options.idPrefix}-${id}`, data: { tokens: value, concurrency: 3 }, ...extra });
  const [firstTwin, secondTwin] = options.twins;
  if (firstTwin === undefined || secondTwin === undefined) throw new Error('test: poisonRecords needs two valid twins');
  const bad: [label: string, value: Buffer | null, reason: DeadLetterReason][] = [
    ['truncated JSON', Buffer.from('{"specversion":"1.0","id":"cut-'), 'invalid-encoding'],
    ['plain text', Buffer.from('usage: 12 tokens for acme'), 'invalid-encoding'],
    ['NaN literal (not JSON)', Buffer.from(`{"specversion":"1.0","id":"${options.idPrefix}-nan-literal","source":"poison","type":"llm.tokens","subject":"${subject}","data":{"tokens":NaN}}`), 'invalid-encoding'],
    ['tombstone', null, 'invalid-encoding'],
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'invalid-encoding'],
    ['JSON array', Buffer.from('[1,2,3]'), 'not-an-object'],
    ['Avro, unknown schema id', wireFormat(2_000_000_000, Buffer.from([0x02, 0x06, 0x31, 0x2e, 0x30])), options.withRegistry ? 'unknown-schema' : 'invalid-encoding'],
    ['Avro, header cut short', Buffer.from([0, 0, 1]), 'invalid-encoding'],
    ['1.1 MiB payload', tokens('huge', 1, { data: { tokens: 1, pad: 'x'.repeat(1_153_434) } }), 'too-large'],
    ['tokens "NaN"', tokens('nan', 'NaN'), 'invalid-value'],
    ['tokens null (NaN through JSON.stringify)', tokens('null', Number.NaN), 'invalid-value'],
    ['tokens "Infinity"', tokens('inf', 'Infinity'), 'invalid-value'],
    ['tokens "abc"', tokens('abc', 'abc'), 'invalid-value'],
    ['stamped 2099', tokens('2099', 5, { time: '2099-01-01T00:00:00.000Z' }), 'future-time'],
    ['stamped 2099, twin of a valid event', json({ ...firstTwin, time: '2099-06-30T12:00:00.000Z' }), 'future-time'],
    ['NaN twin of a valid event', json({ ...secondTwin, type: 'llm.tokens', data: { tokens: 'NaN', concurrency: 1 } }), 'invalid-value'],
    ['no subject', tokens('no-subject', 1, { subject: undefined }), 'missing-field'],
    ['specversion 0.3', tokens('v03', 1, { specversion: '0.3' }), 'unsupported-specversion'],
    ['time "yesterday"', tokens('yesterday', 1, { time: 'yesterday' }), 'invalid-time'],
    ['data a string', json({ ...ok, id: `${options.idPrefix}-data-string`, data: 'tokens=5' }), 'invalid-field'],
    // Accepted at the door by a lax ingest, these fail a later stage (a store key, the repartition, a serializer) on every restart.
    ['lone surrogate in subject', tokens('surrogate-subject', 1, { subject: 'c0\ud800' }), 'invalid-field'],
    ['lone surrogate in source', tokens('surrogate-source', 1, { source: 'poison\ud800' }), 'invalid-field'],
    ['lone surrogate in id', json({ ...ok, id: `${options.idPrefix}-surrogate-id-\udc00`, data: { tokens: 1, concurrency: 3 } }), 'invalid-field'],
    ['lone surrogate in type', tokens('surrogate-type', 1, { type: 'llm.tokens\ud800' }), 'invalid-field'],
    ['lone surrogate in a group-by value', json({ ...ok, id: `${options.idPrefix}-surrogate-route`, type: 'api.request', data: { route: '/a\ud800' } }), 'invalid-field'],
    [`data nested ${nestingDepth} levels`, nestedData(`${options.idPrefix}-nested`, ok), 'too-deep'],
  ];
  return bad.map(([label, value, reason], i) => ({ kind: 'poison', key: `${options.idPrefix}-poison-${i}`, value, reason, label }));
}

/** The events of the valid and late records, in order. */
export function eventsOf(records: readonly SentRecord[]): CloudEvent[] {
  return records.flatMap((r) => (r.kind === 'poison' ? [] : [r.event]));
}
