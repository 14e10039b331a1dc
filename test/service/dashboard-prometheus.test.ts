/**
 * The Grafana dashboard against a real Prometheus: Tally runs on 127.0.0.1
 * against the run's broker (meters, a customer and a plan, so rating runs),
 * Debian's Prometheus scrapes its /metrics every second while a mix of events
 * flows (valid, duplicate, late, malformed, future, unmatched, unrated), and
 * every PromQL expression of helm/tally/dashboards/tally.json must then
 * return data — all failures reported at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TallyConfig } from '../../schemas/index.js';
import { produce, uniqueName, waitFor } from '../kafka/kafka-helpers.js';
import { TopicTail } from '../kafka/metering-fixtures.js';
import { dashboardTargets, readDashboard, substituteVariables } from './dashboard-queries.js';
import { installPrometheus, PrometheusServer } from './prometheus-server.js';
import { minuteMs, prepareService, removeStateDir, runService, usageEvent, type RunningService } from './service-fixtures.js';

const subjects = { paying: uniqueName('acme-prod'), unowned: uniqueName('nobody') };
const cleanups: (() => Promise<void>)[] = [];
let config: TallyConfig;
let running: RunningService;
let prometheus: PrometheusServer;

/** One Kafka message per outcome the dashboard shows, in an order that makes the late one late. */
function mixedEvents(nowMs: number): { key: string; value: string }[] {
  const tokens = (id: string, agoMs: number, data: Record<string, unknown>, subject = subjects.paying) =>
    JSON.stringify(usageEvent({ id, subject, timeMs: nowMs - agoMs, data: { concurrency: 1, ...data } }));
  const key = subjects.paying; // one key: one partition, processed in this order
  return [
    { key, value: tokens('t1', 2 * minuteMs, { tokens: 120 }) },
    { key, value: tokens('t2', minuteMs, { tokens: '0.5' }) },
    { key, value: tokens('t1', 2 * minuteMs, { tokens: 120 }) }, // duplicate
    { key, value: JSON.stringify(usageEvent({ id: 'a1', subject: subjects.paying, timeMs: nowMs - minuteMs, type: 'api.request', data: { route: '/v1/chat' } })) },
    { key, value: tokens('late-1', 3 * 60 * minuteMs, { tokens: 7 }) }, // past its window's end + 1 h lateness
    { key, value: JSON.stringify(usageEvent({ id: 'x1', subject: subjects.paying, timeMs: nowMs - minuteMs, type: 'not.metered' })) }, // matches no meter
    { key, value: tokens('f1', -86_400_000, { tokens: 1 }) }, // a day in the future
    { key, value: tokens('v1', minuteMs, { tokens: 'abc' }) }, // invalid value
    { key, value: 'not json at all' }, // malformed
    { key: subjects.unowned, value: tokens('u1', minuteMs, { tokens: 3 }, subjects.unowned) }, // usage no customer pays for
  ];
}

/** Through the HTTP API: one event accepted, one rejected (no subject). */
async function postEvents(nowMs: number): Promise<void> {
  const valid = usageEvent({ id: 'api-1', subject: subjects.paying, timeMs: nowMs - minuteMs, data: { tokens: 2, concurrency: 1 } });
  const invalid = { ...usageEvent({ id: 'api-2', subject: subjects.paying, timeMs: nowMs }), subject: undefined };
  const answer = await running.api.post('/v1/events', JSON.stringify([valid, invalid]));
  expect(answer.status, answer.text).toBe(202);
  expect(answer.body).toMatchObject({ accepted: 1, rejected: [{ index: 1, reason: 'missing-field' }] });
}

async function withTimeout<T>(what: string, promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Prometheus has scraped the service at least `count` more times from now on. */
async function waitForScrapes(count: number): Promise<void> {
  const scrapes = async () => Number((await prometheus.query(`count_over_time(up{job="tally"}[1h])`))[0]?.value[1] ?? 0);
  const start = await scrapes();
  await waitFor(`${count} more scrapes of the service`, async () => (await scrapes()) >= start + count, 30_000);
}

/** Series each message of the mix must move; waits until Prometheus has them all above 0, and returns those it never saw. */
async function waitForOutcomes(applicationId: string, timeoutMs: number): Promise<string[]> {
  const outcomes = [
    'tally_duplicates_total',
    'tally_late_events_total',
    'tally_unrated_usage_total',
    'tally_events_unmatched_total',
    'tally_dead_letters_total{reason="invalid-encoding"}',
    'tally_dead_letters_total{reason="future-time"}',
    'tally_dead_letters_total{reason="invalid-value"}',
    'tally_billing_details_total{status="provisional"}',
    'tally_meter_records_total{status="provisional"}',
    'tally_events_api_accepted_total',
    'tally_events_api_rejected_total{reason="missing-field"}',
  ];
  const inApp = (selector: string) => (selector.includes('{') ? selector.replace('{', `{application="${applicationId}",`) : `${selector}{application="${applicationId}"}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const unseen: string[] = [];
    for (const selector of outcomes) if ((await prometheus.query(`sum(${inApp(selector)}) > 0`)).length === 0) unseen.push(selector);
    if (unseen.length === 0 || Date.now() > deadline) return unseen;
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(async () => {
  const binary = await installPrometheus();
  config = await prepareService('tally-dash', 2, [{ id: uniqueName('acme'), subjects: [subjects.paying] }]);
  cleanups.push(() => removeStateDir(config));
  running = await runService(config);
  cleanups.push(() => running.service.close());
  await withTimeout('the service to be ready', running.service.ready, 60_000).catch((error: Error) => {
    throw new Error(`${error.message}\nservice log:\n${running.logs.slice(-20).join('\n')}`);
  });
  prometheus = await PrometheusServer.start(binary, { job: 'tally', targets: [new URL(running.service.url).host] });
  cleanups.push(() => prometheus.stop());
  await waitForScrapes(2);
}, 300_000);

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error: Error) => console.warn(`cleanup: ${error.message}`));
});

describe('the Grafana dashboard on a real Prometheus', () => {
  it('every PromQL expression of the dashboard returns data while Tally meters and rates a mix of events', { timeout: 180_000 }, async () => {
    const meters = await TopicTail.start(config.topics.meters);
    const billing = await TopicTail.start(config.topics.billing);
    cleanups.push(async () => {
      await meters.stop();
      await billing.stop();
    });
    await produce(config.topics.events, mixedEvents(Date.now()));
    await postEvents(Date.now());
    await waitFor('meter and billing records', () => meters.records.length > 0 && billing.records.length > 0, 60_000);
    // Every outcome of the mix reaches Prometheus; then a few more scrapes of the settled state.
    const unseen = await waitForOutcomes(config.app.id, 60_000);
    expect(unseen, 'outcomes Prometheus never saw above 0').toEqual([]);
    await waitForScrapes(3);

    const dashboard = await readDashboard();
    const targets = dashboardTargets(dashboard);
    expect(targets.length).toBeGreaterThan(20);
    const variables = { application: config.app.id, datasource: 'prometheus', __rate_interval: '1m', __interval: '15s', __range: '5m' };
    const failures: string[] = [];
    for (const { where, expr } of targets) {
      try {
        const samples = await prometheus.query(substituteVariables(expr, variables));
        if (samples.length === 0) failures.push(`${where}: no data for ${expr}`);
        else if (samples.every((s) => Number.isNaN(Number(s.value[1])))) failures.push(`${where}: only NaN for ${expr}`);
      } catch (error) {
        failures.push(`${where}: ${(error as Error).message} in ${expr}`);
      }
    }
    expect(failures, `${failures.length} of ${targets.length} dashboard expressions failed:\n${failures.join('\n')}`).toEqual([]);

    // The `application` variable's query (label_values(tally_ready, application)) offers this app.
    const variable = dashboard.templating?.list.find((v) => v.name === 'application');
    expect(variable?.definition).toBe('label_values(tally_ready, application)');
    expect(await prometheus.labelValues('application', 'tally_ready')).toContain(config.app.id);
  });
});
