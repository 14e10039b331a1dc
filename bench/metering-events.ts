/**
 * Input and config for the metering benchmarks: CloudEvents for three meters
 * (api_requests COUNT grouped by route, tokens SUM, peak MAX) over a number of
 * subjects, with a share of exact duplicates (a producer's retries).
 */
import type { Message } from 'kafkajs';

export const benchMeters = [
  { slug: 'api_requests', eventType: 'api.request', aggregation: 'COUNT', groupBy: { route: '$.route' } },
  { slug: 'tokens', eventType: 'llm.tokens', aggregation: 'SUM', valueProperty: '$.tokens' },
  { slug: 'peak', eventType: 'llm.tokens', aggregation: 'MAX', valueProperty: '$.concurrency' },
] as const;

export interface BenchEventOptions {
  /** Records to produce, duplicates included. */
  readonly events: number;
  readonly subjects: number;
  /** Share of records that repeat an earlier event (0..1). */
  readonly duplicateShare: number;
  /** Event times are spread over [fromMs, fromMs + spanMs). */
  readonly fromMs: number;
  readonly spanMs: number;
  /** Event time between two events, ms (default 1). */
  readonly msPerEvent?: number;
  /** Key records by subject (no repartition needed) instead of by event id. */
  readonly keyBySubject: boolean;
}

export interface BenchEvent {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject: string;
  readonly time: string;
  readonly data: Record<string, unknown>;
}

const routes = ['/v1/chat', '/v1/embed', '/v1/files', '/v1/models'];

/** Event number `i` of the bench input (before duplicates are inserted). */
export function benchEvent(i: number, options: Pick<BenchEventOptions, 'subjects' | 'fromMs' | 'spanMs' | 'msPerEvent'>): BenchEvent {
  // Multiplicative hashing: deterministic, evenly spread, no PRNG state to carry.
  const h = Math.imul(i + 1, 2654435761) >>> 0;
  const subject = `customer-${h % options.subjects}`;
  const time = new Date(options.fromMs + ((i * (options.msPerEvent ?? 1)) % options.spanMs)).toISOString();
  const base = { specversion: '1.0' as const, id: `e-${i}`, source: 'bench', subject, time };
  if (h % 2 === 0) return { ...base, type: 'api.request', data: { route: routes[(h >>> 8) % routes.length] } };
  return { ...base, type: 'llm.tokens', data: { tokens: (h >>> 4) % 4000, concurrency: (h >>> 12) % 64 } };
}

/**
 * The `count` records starting at record number `from`, as kafkajs messages
 * (values encoded by `encode`, JSON by default). Every `1 / duplicateShare`-th
 * record repeats an event sent about 1 000 records before it.
 */
export async function benchMessages(from: number, count: number, options: BenchEventOptions, encode: (event: BenchEvent) => Buffer | Promise<Buffer> = (e) => Buffer.from(JSON.stringify(e))): Promise<Message[]> {
  const every = options.duplicateShare > 0 ? Math.round(1 / options.duplicateShare) : 0;
  const messages: Message[] = [];
  for (let n = from; n < from + count && n < options.events; n++) {
    const isDuplicate = every > 0 && n % every === every - 1 && n >= 1_000;
    // The original must be a record that was sent as itself, not another duplicate's slot.
    let original = n - 997;
    if (original % every === every - 1) original -= 1;
    const event = benchEvent(isDuplicate ? original : n, options);
    messages.push({ key: options.keyBySubject ? event.subject : event.id, value: await encode(event) });
  }
  return messages;
}

/** Subjects per customer when the benchmark rates usage: customer-<n> owns subjects n·10 … n·10+9. */
export const subjectsPerCustomer = 10;

/** One plan charging every bench meter: graduated requests, per-unit tokens, the period's peak. */
export const benchPlans = [
  {
    key: 'pro',
    charges: [
      { key: 'requests', meter: 'api_requests', model: 'graduated', tiers: [{ upTo: 1000, unitPrice: '0' }, { upTo: 10000, unitPrice: '0.002', flatFee: '1' }, { unitPrice: '0.001' }] },
      { key: 'tokens', meter: 'tokens', model: 'per_unit', flatFee: '5', unitPrice: '0.0001' },
      { key: 'peak', meter: 'peak', model: 'volume', tiers: [{ upTo: 16, unitPrice: '1' }, { unitPrice: '0.5' }] },
    ],
  },
] as const;

/** Customers owning `subjects` bench subjects, in a few time zones. */
export function benchCustomers(subjects: number): Record<string, unknown>[] {
  const zones = ['UTC', 'America/Los_Angeles', 'Europe/Budapest', 'Asia/Tokyo'];
  const customers: Record<string, unknown>[] = [];
  for (let n = 0; n * subjectsPerCustomer < subjects; n++) {
    const owned = Array.from({ length: Math.min(subjectsPerCustomer, subjects - n * subjectsPerCustomer) }, (_, i) => `customer-${n * subjectsPerCustomer + i}`);
    customers.push({ id: `account-${n}`, subjects: owned, timezone: zones[n % zones.length], currency: 'USD', billingAnchor: '2024-01-15', plan: 'pro' });
  }
  return customers;
}

export interface BenchConfigOptions {
  readonly appId: string;
  readonly stateDir: string;
  readonly brokers: readonly string[];
  readonly guarantee: string;
  readonly events: string;
  readonly registryUrl?: string;
  readonly keyedBySubject: boolean;
  readonly commitIntervalMs: number;
  /** Declare customers and plans, so the pipeline rates usage too; the number of subjects to cover. */
  readonly ratedSubjects?: number;
  /** ingest.dedupeRetention (ISO 8601 duration); default P1D. */
  readonly dedupeRetention?: string;
}

/** A tally.yaml as an object for the benchmark's app. */
export function benchConfig(options: BenchConfigOptions): Record<string, unknown> {
  const prefix = options.appId;
  return {
    app: { id: options.appId, stateDir: options.stateDir, processingGuarantee: options.guarantee, commitIntervalMs: options.commitIntervalMs },
    kafka: { brokers: options.brokers },
    ...(options.registryUrl === undefined ? {} : { schemaRegistry: { url: options.registryUrl } }),
    topics: { events: options.events, meters: `${prefix}-meters`, late: `${prefix}-late`, deadLetter: `${prefix}-dead`, customers: `${prefix}-customers`, billing: `${prefix}-billing`, invoices: `${prefix}-invoices`, entitlements: `${prefix}-entitlements`, alerts: `${prefix}-alerts` },
    ingest: { allowedLateness: 'PT1H', maxFutureSkew: 'PT5M', dedupeRetention: options.dedupeRetention ?? 'P1D', keyedBySubject: options.keyedBySubject },
    windows: { size: 'PT1M', retention: 'P1D' },
    meters: benchMeters,
    ...(options.ratedSubjects === undefined ? {} : { customers: benchCustomers(options.ratedSubjects), plans: benchPlans }),
  };
}
