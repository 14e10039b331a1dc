/**
 * Shared by the query tests: a configuration with one meter per aggregation
 * under test, and in-memory window stores filled the way the meter processor
 * fills them (the aggregation's `add` per event, per base window).
 */
import { afterEach } from 'vitest';
import { aggregationFor, type Aggregation, type MeterWindowValue } from '../../processors/aggregations/index.js';
import { meterStoreKey } from '../../processors/meter-keys.js';
import { parseMeterQuery, runMeterQuery, type MeterQueryResult } from '../../processors/query/index.js';
import type { MeterConfig, TallyConfig } from '../../schemas/config-types.js';
import { jsonSerde } from '../../schemas/index.js';
import { createWindowStore, readOnlyWindowStore, type ReadOnlyWindowStore, type WindowStateStore } from '../../state/index.js';

export const minuteMs = 60_000;
export const hourMs = 60 * minuteMs;
export const dayMs = 24 * hourMs;

export const meters: readonly MeterConfig[] = [
  { slug: 'tokens', eventType: 'llm.tokens', aggregation: 'SUM', valueProperty: '$.tokens', groupBy: {} },
  { slug: 'requests', eventType: 'api.request', aggregation: 'COUNT', groupBy: { route: '$.route', method: '$.method' } },
  { slug: 'latency', eventType: 'api.request', aggregation: 'AVG', valueProperty: '$.ms', groupBy: {} },
  { slug: 'users', eventType: 'login', aggregation: 'UNIQUE_COUNT', valueProperty: '$.user', groupBy: {} },
  { slug: 'seats', eventType: 'seats.set', aggregation: 'LATEST', valueProperty: '$.seats', groupBy: {} },
];

/** The configuration with base windows of `windowSizeMs`. */
export function configWith(windowSizeMs: number): TallyConfig {
  return {
    app: { id: 'tally', stateDir: '.tally/state', processingGuarantee: 'exactly_once', commitIntervalMs: 100, cacheMaxBytes: 64 * 1024 * 1024 },
    kafka: { brokers: ['127.0.0.1:9092'] },
    topics: { events: 'e', meters: 'm', billing: 'b', late: 'l', deadLetter: 'd', customers: 'c', invoices: 'i', entitlements: 'en', alerts: 'al' },
    ingest: { allowedLatenessMs: hourMs, maxFutureSkewMs: 5 * minuteMs, dedupeRetentionMs: 35 * dayMs },
    windows: { sizeMs: windowSizeMs, retentionMs: 35 * dayMs },
    meters,
    customers: [],
    plans: [],
    http: { host: '127.0.0.1', port: 8080, tokens: [] },
  };
}

/** One event as the meter processor would have folded it into its base window. */
export interface Usage {
  readonly time: string;
  readonly subject?: string;
  readonly value?: string;
  readonly groupBy?: Readonly<Record<string, string>>;
  /** Input offset (LATEST's tie-break); defaults to the event's position in the list. */
  readonly offset?: number;
}

const opened: WindowStateStore<MeterWindowValue>[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

export function aggregationOf(meter: string): Aggregation<unknown> {
  const config = meters.find((candidate) => candidate.slug === meter);
  if (config === undefined) throw new Error(`no test meter ${meter}`);
  return aggregationFor(config.aggregation);
}

/** An empty, open in-memory window store of one task, closed after the test. */
export async function emptyPartition(meter: string, baseWindowMs = minuteMs): Promise<WindowStateStore<MeterWindowValue>> {
  const store = createWindowStore<MeterWindowValue>(
    {
      name: `meter-${meter}`,
      kind: 'window',
      persistent: false,
      caching: false,
      logging: false,
      valueSerde: jsonSerde(),
      retentionMs: 3650 * dayMs,
      windowSizeMs: baseWindowMs,
    },
    { taskId: '0_0', currentTimestampMs: () => 0 },
  );
  await store.open();
  opened.push(store);
  return store;
}

/** One task's window store of `meter`, filled with `usages` through the aggregation's `add`. */
export async function partition(meter: string, usages: readonly Usage[], baseWindowMs = minuteMs): Promise<ReadOnlyWindowStore<MeterWindowValue>> {
  const aggregation = aggregationOf(meter);
  const store = await emptyPartition(meter, baseWindowMs);
  for (const [position, usage] of usages.entries()) {
    const timeMs = Date.parse(usage.time);
    const windowStartMs = Math.floor(timeMs / baseWindowMs) * baseWindowMs;
    const key = meterStoreKey(usage.subject ?? 'acme', usage.groupBy ?? {});
    const previous = await store.fetch(key, windowStartMs);
    const offset = usage.offset ?? position;
    const acc = aggregation.add(previous?.acc ?? aggregation.initial(), { value: usage.value, timeMs, offset, id: `event-${offset}` });
    await store.put(key, windowStartMs, { acc, count: (previous?.count ?? 0) + 1 });
  }
  return readOnlyWindowStore(store);
}

/** Parses `query` against `configWith(baseWindowMs)` and runs it with the meter's real aggregation. */
export async function ask(query: string, stores: readonly ReadOnlyWindowStore<MeterWindowValue>[], baseWindowMs = minuteMs): Promise<MeterQueryResult> {
  const parsed = parseMeterQuery(new URLSearchParams(query), configWith(baseWindowMs));
  return runMeterQuery(parsed, stores, aggregationOf(parsed.meter));
}
