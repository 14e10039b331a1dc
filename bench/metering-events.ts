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

function eventAt(i: number, options: BenchEventOptions): BenchEvent {
  // Multiplicative hashing: deterministic, evenly spread, no PRNG state to carry.
  const h = Math.imul(i + 1, 2654435761) >>> 0;
  const subject = `customer-${h % options.subjects}`;
  const time = new Date(options.fromMs + (i % options.spanMs)).toISOString();
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
    const event = eventAt(isDuplicate ? original : n, options);
    messages.push({ key: options.keyBySubject ? event.subject : event.id, value: await encode(event) });
  }
  return messages;
}

/** A tally.yaml as an object for the benchmark's app. */
export function benchConfig(options: { appId: string; stateDir: string; brokers: readonly string[]; guarantee: string; events: string; registryUrl?: string; keyedBySubject: boolean; commitIntervalMs: number }): Record<string, unknown> {
  const prefix = options.appId;
  return {
    app: { id: options.appId, stateDir: options.stateDir, processingGuarantee: options.guarantee, commitIntervalMs: options.commitIntervalMs },
    kafka: { brokers: options.brokers },
    ...(options.registryUrl === undefined ? {} : { schemaRegistry: { url: options.registryUrl } }),
    topics: { events: options.events, meters: `${prefix}-meters`, late: `${prefix}-late`, deadLetter: `${prefix}-dead`, customers: `${prefix}-customers`, billing: `${prefix}-billing` },
    ingest: { allowedLateness: 'PT1H', maxFutureSkew: 'PT5M', dedupeRetention: 'P1D', keyedBySubject: options.keyedBySubject },
    windows: { size: 'PT1M', retention: 'P1D' },
    meters: benchMeters,
  };
}
