/**
 * The demo's sample usage: three batches of ordinary traffic from four
 * subjects over the last three minutes, then the troublemakers — copies of
 * events already sent, a malformed record, an event with a bad value and
 * one event from a quarter of an hour ago that arrives after its window
 * closed. The same sample every run (a fixed seed), placed relative to
 * `nowMs` so nothing is too old or in the future.
 */
import type { DeadLetterReason, UsageEvent } from '../../schemas/records.js';

/** A CloudEvent as a producer sends it. */
export type DemoEvent = Omit<UsageEvent, 'timeMs'>;

export type DemoRecordKind = 'event' | 'duplicate' | 'late' | 'malformed';

export interface DemoRecord {
  readonly kind: DemoRecordKind;
  readonly key: string | null;
  /** The event to send (JSON or Avro); absent for raw bytes. */
  readonly event?: DemoEvent;
  /** Bytes sent as they are (a malformed record). */
  readonly raw?: Buffer;
  /** Send in the Avro wire format (only when the demo has a registry). */
  readonly avro: boolean;
  /** For malformed records: the dead-letter reason the pipeline should give. */
  readonly expectedReason?: DeadLetterReason;
  /** What the demo says when it sends this record (the unusual ones). */
  readonly note?: string;
}

export interface DemoBatch {
  readonly label: string;
  readonly records: readonly DemoRecord[];
}

export interface DemoStream {
  readonly batches: readonly DemoBatch[];
  /** The events the meters must count: every valid event once, the late one not. */
  readonly counted: readonly DemoEvent[];
  readonly duplicates: number;
  readonly late: number;
  readonly deadLetters: ReadonlyMap<DeadLetterReason, number>;
  readonly records: number;
}

interface SubjectProfile {
  readonly subject: string;
  readonly requestsPerBatch: number;
  readonly tokenEventsPerBatch: number;
  /** Seats reported in the first batch, then (if set) a change in the last. */
  readonly seats: readonly [number, number?];
  /** Its producer writes Avro (when the demo runs a registry). */
  readonly avro: boolean;
}

const profiles: readonly SubjectProfile[] = [
  { subject: 'acme-prod', requestsPerBatch: 9, tokenEventsPerBatch: 3, seats: [12, 14], avro: false },
  { subject: 'acme-dev', requestsPerBatch: 2, tokenEventsPerBatch: 1, seats: [3], avro: false },
  { subject: 'bolt-api', requestsPerBatch: 6, tokenEventsPerBatch: 2, seats: [4, 6], avro: false },
  { subject: 'kumo-web', requestsPerBatch: 7, tokenEventsPerBatch: 3, seats: [25], avro: true },
];

const routes = ['/v1/chat', '/v1/chat', '/v1/embeddings', '/v1/models'] as const;
const batchLabels = ['first minute', 'second minute', 'third minute'] as const;
const batchSpanMs = 55_000;
const firstBatchAgoMs = 170_000;
const lateEventAgoMs = 15 * 60_000;

/** A small seeded generator (mulberry32): the same sample every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function event(id: string, source: string, type: string, subject: string, timeMs: number, data: Record<string, unknown>): DemoEvent {
  return { specversion: '1.0', id, source, type, subject, time: new Date(timeMs).toISOString(), data };
}

/** One batch of ordinary traffic between `fromMs` and `fromMs + batchSpanMs`, in time order. */
function trafficBatch(index: number, fromMs: number, random: () => number, avro: boolean, nextId: (prefix: string) => string): DemoRecord[] {
  const timed: { timeMs: number; record: DemoRecord }[] = [];
  const at = () => fromMs + Math.floor(random() * batchSpanMs);
  for (const profile of profiles) {
    const send = (e: DemoEvent) => timed.push({ timeMs: Date.parse(e.time), record: { kind: 'event', key: e.subject, event: e, avro: avro && profile.avro } });
    for (let i = 0; i < profile.requestsPerBatch; i++) {
      const route = routes[Math.floor(random() * routes.length)] as string;
      send(event(nextId('req'), 'api-gateway', 'api.request', profile.subject, at(), { route, status: 200 }));
    }
    for (let i = 0; i < profile.tokenEventsPerBatch; i++) {
      const tokens = 50 + Math.floor(random() * 245) * 10;
      send(event(nextId('tok'), 'llm-proxy', 'llm.tokens', profile.subject, at(), { tokens, model: random() < 0.7 ? 'small' : 'large' }));
    }
    const seats = index === 0 ? profile.seats[0] : index === batchLabels.length - 1 ? profile.seats[1] : undefined;
    if (seats !== undefined) send(event(nextId('seat'), 'admin-console', 'seats.set', profile.subject, at(), { seats }));
  }
  return timed.sort((a, b) => a.timeMs - b.timeMs).map((t) => t.record);
}

/** The copies: the same (source, id) again, one of them in the other encoding when there is a registry. */
function duplicates(batches: readonly DemoRecord[][]): DemoRecord[] {
  const pick = (batch: number, subject: string, type: string): DemoRecord => {
    const found = batches[batch]?.find((r) => r.event?.subject === subject && r.event.type === type);
    if (found === undefined) throw new Error(`demo stream: no ${type} event of ${subject} in batch ${batch}`);
    return found;
  };
  const again = (original: DemoRecord, avro: boolean, note: string): DemoRecord => ({ ...original, kind: 'duplicate', avro, note });
  const kumo = pick(0, 'kumo-web', 'llm.tokens');
  return [
    again(pick(0, 'acme-prod', 'api.request'), false, 'a producer retry: the same request event again'),
    again(pick(1, 'bolt-api', 'llm.tokens'), false, 'a replayed batch: the same token event again'),
    again(kumo, false, kumo.avro ? 'the same token event again, as JSON this time (it was Avro)' : 'the same token event again'),
  ];
}

function troublemakers(nowMs: number): DemoRecord[] {
  const truncated = '{"specversion":"1.0","id":"req-broken","source":"api-gateway","type":"api.requ';
  return [
    { kind: 'malformed', key: 'bolt-api', raw: Buffer.from(truncated, 'utf8'), avro: false, expectedReason: 'invalid-encoding', note: 'a truncated record that is not JSON' },
    {
      kind: 'malformed',
      key: 'acme-dev',
      event: event('tok-bad-value', 'llm-proxy', 'llm.tokens', 'acme-dev', nowMs - 20_000, { tokens: 'lots' }),
      avro: false,
      expectedReason: 'invalid-value',
      note: 'a token event whose "tokens" is "lots", not a number',
    },
    {
      kind: 'late',
      key: 'acme-prod',
      event: event('tok-late', 'llm-proxy', 'llm.tokens', 'acme-prod', nowMs - lateEventAgoMs, { tokens: 400, model: 'small' }),
      avro: false,
      note: 'a token event from 15 minutes ago, sent after its window closed',
    },
  ];
}

/** The sample stream, with what the pipeline must make of it. */
export function demoStream(nowMs: number, options: { readonly avro: boolean }): DemoStream {
  const random = seededRandom(20_241_115);
  let sequence = 0;
  const nextId = (prefix: string) => `${prefix}-${String(++sequence).padStart(4, '0')}`;
  const traffic = batchLabels.map((_, index) => trafficBatch(index, nowMs - firstBatchAgoMs + index * batchSpanMs, random, options.avro, nextId));
  const copies = duplicates(traffic);
  const trouble = troublemakers(nowMs);
  const batches: DemoBatch[] = [
    ...traffic.map((records, index) => ({ label: batchLabels[index] as string, records: index === traffic.length - 1 ? [...records, ...copies] : records })),
    { label: 'troublemakers', records: trouble },
  ];
  const deadLetters = new Map<DeadLetterReason, number>();
  for (const r of trouble) if (r.expectedReason !== undefined) deadLetters.set(r.expectedReason, (deadLetters.get(r.expectedReason) ?? 0) + 1);
  return {
    batches,
    counted: traffic.flat().flatMap((r) => (r.event === undefined ? [] : [r.event])),
    duplicates: copies.length,
    late: trouble.filter((r) => r.kind === 'late').length,
    deadLetters,
    records: batches.reduce((n, b) => n + b.records.length, 0),
  };
}
