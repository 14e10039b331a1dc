/**
 * The service's Prometheus metrics, driven directly: the runtime observer's
 * callbacks, a hand-made app snapshot (with real store directories on disk)
 * and the processors' plain counters, checked in the exposition text a
 * scrape returns.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMeteringCounters, createRatingCounters } from '../../processors/index.js';
import { deadLetterReasons } from '../../schemas/index.js';
import { TaskId } from '../../topology/index.js';
import { createServiceMetrics, eventsApiRejectReasons, knownTransactionAbortReasons, type ServiceMetrics } from '../../service/metrics/index.js';
import type { AppSnapshot, TaskSnapshot } from '../../topology/kafka/index.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** Samples of the Prometheus text format (comments skipped). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) labels[key as string] = value as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

async function scrape(metrics: ServiceMetrics): Promise<Sample[]> {
  return parseExposition(await metrics.registry.metrics());
}

/** The value of the one sample of `name` whose labels include `labels`; fails when not exactly one. */
function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  expect(found, `${name}${JSON.stringify(labels)} in ${found.length} samples`).toHaveLength(1);
  return (found[0] as Sample).value;
}

function seriesOf(samples: readonly Sample[], name: string): Record<string, string>[] {
  return samples.filter((s) => s.name === name).map((s) => s.labels);
}

function setup(snapshot: () => AppSnapshot | undefined = () => undefined) {
  const metering = createMeteringCounters();
  const rating = createRatingCounters();
  const metrics = createServiceMetrics({ applicationId: 'billing-eu', metering, rating, snapshot });
  return { metering, rating, metrics };
}

function task(id: string, fields: Partial<TaskSnapshot> = {}): TaskSnapshot {
  return { id, partition: TaskId.parse(id).partition, restoring: false, restoreRemaining: 0, sources: [], stores: [], ...fields };
}

describe('service metrics', () => {
  it('exposes every family from the first scrape, with zeros where nothing happened yet and the application label', async () => {
    const { metrics } = setup();
    const samples = await scrape(metrics);
    for (const reason of deadLetterReasons) expect(valueOf(samples, 'tally_dead_letters_total', { reason })).toBe(0);
    for (const status of ['provisional', 'final']) {
      expect(valueOf(samples, 'tally_billing_details_total', { status })).toBe(0);
      expect(valueOf(samples, 'tally_meter_records_total', { status })).toBe(0);
    }
    for (const reason of knownTransactionAbortReasons) expect(valueOf(samples, 'tally_transaction_aborts_total', { reason })).toBe(0);
    for (const reason of eventsApiRejectReasons) expect(valueOf(samples, 'tally_events_api_rejected_total', { reason })).toBe(0);
    expect(seriesOf(samples, 'tally_events_api_rejected_total').map((l) => l['reason'])).not.toContain('unrated');
    for (const name of ['tally_duplicates_total', 'tally_late_events_total', 'tally_unrated_usage_total', 'tally_rebalances_total', 'tally_events_api_accepted_total', 'tally_ready']) {
      expect(valueOf(samples, name)).toBe(0);
    }
    expect(valueOf(samples, 'tally_tasks', { state: 'running' })).toBe(0);
    expect(valueOf(samples, 'tally_app_state', { state: 'running' })).toBe(0);
    expect(valueOf(samples, 'tally_process_latency_seconds_count')).toBe(0);
    // prom-client's process metrics, under the same prefix.
    expect(samples.some((s) => s.name === 'tally_process_cpu_user_seconds_total')).toBe(true);
    expect(samples.some((s) => s.name === 'tally_nodejs_heap_size_used_bytes')).toBe(true);
    expect(samples.filter((s) => s.labels['application'] !== 'billing-eu')).toEqual([]);
    expect(samples.filter((s) => !s.name.startsWith('tally_'))).toEqual([]);
  });

  it('counts what the runtime observer reports: records per topic, per-record latency, commits, rebalances, aborts, restorations', async () => {
    const { metrics } = setup();
    const { observer } = metrics;
    observer.recordsProcessed?.('0_1', 'usage-events', 1, 4, 2); // 4 records in 2 ms: 0.5 ms each
    observer.recordsProcessed?.('0_2', 'usage-events', 2, 1, 0.02);
    observer.recordsProduced?.('tally-meters', 3);
    observer.recordsProduced?.('tally-meters', 2);
    observer.recordsProduced?.('tally-app-dedupe-changelog', 7);
    observer.committed?.(2, 30);
    observer.rebalanced?.(['0_1', '0_2']);
    observer.rebalanced?.(['0_1']);
    observer.transactionAborted?.('0_2', 'closed dirty');
    observer.transactionAborted?.('0_2', 'a reason from a later runtime');
    observer.storeRestored?.('0_1', 'dedupe', 12);
    const samples = await scrape(metrics);
    expect(valueOf(samples, 'tally_records_consumed_total', { topic: 'usage-events' })).toBe(5);
    expect(valueOf(samples, 'tally_records_produced_total', { topic: 'tally-meters' })).toBe(5);
    expect(valueOf(samples, 'tally_records_produced_total', { topic: 'tally-app-dedupe-changelog' })).toBe(7);
    expect(valueOf(samples, 'tally_process_latency_seconds_count')).toBe(5);
    expect(valueOf(samples, 'tally_process_latency_seconds_bucket', { le: '0.00005' })).toBe(1); // the 20 µs record
    expect(valueOf(samples, 'tally_process_latency_seconds_bucket', { le: '0.0005' })).toBe(5);
    expect(valueOf(samples, 'tally_process_latency_seconds_sum')).toBeCloseTo(0.00202, 9);
    expect(valueOf(samples, 'tally_commit_latency_seconds_count')).toBe(1);
    expect(valueOf(samples, 'tally_commit_latency_seconds_sum')).toBeCloseTo(0.03, 9);
    expect(valueOf(samples, 'tally_rebalances_total')).toBe(2);
    expect(valueOf(samples, 'tally_transaction_aborts_total', { reason: 'closed dirty' })).toBe(1);
    expect(valueOf(samples, 'tally_transaction_aborts_total', { reason: 'commit on close failed' })).toBe(0);
    expect(valueOf(samples, 'tally_transaction_aborts_total', { reason: 'a reason from a later runtime' })).toBe(1);
    expect(valueOf(samples, 'tally_restored_records_total')).toBe(12);
  });

  it('reads the processors’ counters at each scrape as monotonic counters', async () => {
    const { metrics, metering, rating } = setup();
    metering.duplicates = 3;
    metering.lateEvents = 2;
    metering.deadLetters['invalid-time'] = 4;
    metering.deadLetters.unrated = 1;
    metering.eventsUnmatched = 6;
    rating.billingRecords = 5;
    rating.billingFinals = 1;
    rating.billingCorrections = 1;
    rating.invoiceRecords = 4;
    rating.alertRecords = 2;
    rating.entitlementRecords = 7;
    let samples = await scrape(metrics);
    expect(valueOf(samples, 'tally_duplicates_total')).toBe(3);
    expect(valueOf(samples, 'tally_late_events_total')).toBe(2);
    expect(valueOf(samples, 'tally_dead_letters_total', { reason: 'invalid-time' })).toBe(4);
    expect(valueOf(samples, 'tally_dead_letters_total', { reason: 'unrated' })).toBe(1);
    expect(valueOf(samples, 'tally_unrated_usage_total')).toBe(1);
    expect(valueOf(samples, 'tally_events_unmatched_total')).toBe(6);
    expect(valueOf(samples, 'tally_billing_details_total', { status: 'provisional' })).toBe(3);
    expect(valueOf(samples, 'tally_billing_details_total', { status: 'final' })).toBe(2);
    expect(valueOf(samples, 'tally_billing_corrections_total')).toBe(1);
    expect(valueOf(samples, 'tally_invoice_records_total')).toBe(4);
    expect(valueOf(samples, 'tally_alerts_total')).toBe(2);
    expect(valueOf(samples, 'tally_entitlement_records_total')).toBe(7);

    // A detail turns final before its record is emitted: the derived provisional
    // count dips for a moment; the counter holds, then counts only new growth.
    rating.billingFinals = 2;
    samples = await scrape(metrics);
    expect(valueOf(samples, 'tally_billing_details_total', { status: 'provisional' })).toBe(3);
    rating.billingRecords = 7;
    metering.duplicates = 10;
    samples = await scrape(metrics);
    expect(valueOf(samples, 'tally_billing_details_total', { status: 'provisional' })).toBe(4);
    expect(valueOf(samples, 'tally_billing_details_total', { status: 'final' })).toBe(3);
    expect(valueOf(samples, 'tally_duplicates_total')).toBe(10);
  });

  it('reads lag, restoration, tasks, readiness and store sizes from the snapshot at scrape time', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'tally-metrics-'));
    cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
    // A window store with two segment databases, and a key-value store.
    const windows = join(stateDir, '1_0', 'meter-tokens');
    await mkdir(join(windows, 'segment-1'), { recursive: true });
    await mkdir(join(windows, 'segment-2'), { recursive: true });
    await writeFile(join(windows, 'segment-1', '000005.ldb'), Buffer.alloc(1000));
    await writeFile(join(windows, 'segment-2', '000007.ldb'), Buffer.alloc(234));
    await mkdir(join(stateDir, '1_0', 'dedupe'));
    await writeFile(join(stateDir, '1_0', 'dedupe', 'CURRENT'), 'MANIFEST-000002\n');

    let current: AppSnapshot = {
      state: 'running',
      ready: false,
      tasks: [
        task('0_0', { sources: [{ topic: 'usage-events', partition: 0, position: 10, endOffset: 25, lag: 15 }, { topic: 'usage-events', partition: 0, position: 0, endOffset: undefined, lag: undefined }] }),
        task('1_0', {
          restoring: true,
          restoreRemaining: 420,
          stores: [
            { name: 'meter-tokens', dir: windows },
            { name: 'dedupe', dir: join(stateDir, '1_0', 'dedupe') },
            { name: 'in-memory-or-not-opened', dir: join(stateDir, '1_0', 'missing') },
          ],
        }),
      ],
    };
    const { metrics } = setup(() => current);
    let samples = await scrape(metrics);
    expect(seriesOf(samples, 'tally_consumer_lag_records')).toEqual([{ application: 'billing-eu', topic: 'usage-events', partition: '0' }]);
    expect(valueOf(samples, 'tally_consumer_lag_records', { topic: 'usage-events', partition: '0' })).toBe(15);
    expect(valueOf(samples, 'tally_restore_remaining_records', { task: '1_0' })).toBe(420);
    expect(valueOf(samples, 'tally_restore_remaining_records', { task: '0_0' })).toBe(0);
    expect(valueOf(samples, 'tally_tasks', { state: 'restoring' })).toBe(1);
    expect(valueOf(samples, 'tally_tasks', { state: 'running' })).toBe(1);
    expect(valueOf(samples, 'tally_ready')).toBe(0);
    expect(valueOf(samples, 'tally_app_state', { state: 'running' })).toBe(1);
    expect(valueOf(samples, 'tally_app_state', { state: 'rebalancing' })).toBe(0);
    expect(valueOf(samples, 'tally_state_store_bytes', { task: '1_0', store: 'meter-tokens' })).toBe(1234);
    expect(valueOf(samples, 'tally_state_store_bytes', { task: '1_0', store: 'dedupe' })).toBe(16);
    expect(valueOf(samples, 'tally_state_store_bytes', { task: '1_0', store: 'in-memory-or-not-opened' })).toBe(0);

    // Task 1_0 moved to another instance: its series go with it.
    current = { state: 'running', ready: true, tasks: [task('0_0')] };
    samples = await scrape(metrics);
    expect(seriesOf(samples, 'tally_restore_remaining_records').map((l) => l['task'])).toEqual(['0_0']);
    expect(seriesOf(samples, 'tally_state_store_bytes')).toEqual([]);
    expect(seriesOf(samples, 'tally_consumer_lag_records')).toEqual([]);
    expect(valueOf(samples, 'tally_ready')).toBe(1);
  });

  it('counts HTTP requests by route pattern and status, and what the events API accepted or rejected', async () => {
    const { metrics } = setup();
    metrics.observeHttpRequest('GET', '/v1/meters/{slug}/query', 200, 0.004);
    metrics.observeHttpRequest('GET', '/v1/meters/{slug}/query', 400, 0.001);
    metrics.observeHttpRequest('POST', '/v1/events', 202, 0.02);
    metrics.observeIngestApi(3, new Map([['missing-field', 2]]));
    metrics.observeIngestApi(1, new Map([['missing-field', 1], ['invalid-time', 1]]));
    const samples = await scrape(metrics);
    expect(valueOf(samples, 'tally_http_requests_total', { method: 'GET', route: '/v1/meters/{slug}/query', status: '200' })).toBe(1);
    expect(valueOf(samples, 'tally_http_requests_total', { method: 'GET', route: '/v1/meters/{slug}/query', status: '400' })).toBe(1);
    expect(valueOf(samples, 'tally_http_request_duration_seconds_count', { method: 'GET', route: '/v1/meters/{slug}/query' })).toBe(2);
    expect(valueOf(samples, 'tally_http_request_duration_seconds_sum', { method: 'POST', route: '/v1/events' })).toBeCloseTo(0.02, 9);
    expect(valueOf(samples, 'tally_events_api_accepted_total')).toBe(4);
    expect(valueOf(samples, 'tally_events_api_rejected_total', { reason: 'missing-field' })).toBe(3);
    expect(valueOf(samples, 'tally_events_api_rejected_total', { reason: 'invalid-time' })).toBe(1);
  });

  it('keeps two services in one process apart (each has its own registry)', async () => {
    const first = setup();
    const second = setup();
    first.metering.duplicates = 2;
    first.metrics.observer.rebalanced?.([]);
    const samples = await scrape(second.metrics);
    expect(valueOf(samples, 'tally_duplicates_total')).toBe(0);
    expect(valueOf(samples, 'tally_rebalances_total')).toBe(0);
  });

  it("counts the processing failures its app's runtime reports (dead letters with reason processing-failed), per service", async () => {
    const { metrics } = setup();
    metrics.observer.processingFailed?.('0_1', 'task 0_1: processing in-1@3 in node "fragile" failed: cannot take it; the record went to dlq (reason processing-failed) and processing carries on');
    metrics.observer.processingFailed?.('0_2', 'task 0_2: processing in-2@7 in node "fragile" failed: cannot take it either; the record went to dlq (reason processing-failed) and processing carries on');
    const samples = await scrape(metrics);
    expect(valueOf(samples, 'tally_processing_failures_total')).toBe(2);
    expect(valueOf(samples, 'tally_dead_letters_total', { reason: 'processing-failed' })).toBe(2);
    expect(valueOf(await scrape(setup().metrics), 'tally_processing_failures_total')).toBe(0); // another service
  });
});
