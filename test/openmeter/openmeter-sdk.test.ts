/**
 * The real `@openmeter/sdk` client against a running service, changed only
 * in its base URL and token: ingest (a batch with a duplicate and an invalid
 * event, then a single event), meters, queries with windowSize,
 * windowTimeZone, subject, groupBy and filterGroupBy, and the SDK's error for
 * a bad query. Expected values are worked out by hand from the events sent
 * (openmeter-fixtures.ts).
 */
import { OpenMeter, WindowSize } from '@openmeter/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TallyConfig } from '../../schemas/index.js';
import { minuteMs, removeStateDir, runService, testTokens, type RunningService } from '../service/service-fixtures.js';
import { kolkataHourBoundaryMs, prepareOpenMeterService, usage } from './openmeter-fixtures.js';

let config: TallyConfig;
let running: RunningService;
let openmeter: OpenMeter;
const b = kolkataHourBoundaryMs();
const sent = usage(b);
const at = (minutes: number, seconds = 0): Date => new Date(b + minutes * minuteMs + seconds * 1000);
const iso = (minutes: number): string => at(minutes).toISOString().replace('.000Z', 'Z');

beforeAll(async () => {
  config = await prepareOpenMeterService('openmeter-sdk');
  running = await runService(config);
  await running.service.ready;
  openmeter = new OpenMeter({ baseUrl: running.service.url, token: testTokens[0] });
});

afterAll(async () => {
  await running.service.close();
  await removeStateDir(config);
});

/** The SDK's rejection: its HttpError carries the status and the problem details. */
async function sdkError(call: Promise<unknown>): Promise<{ statusCode: number; problem: { type: string; title: string; status: number; detail: string; instance: string } }> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error === undefined) throw new Error('the call succeeded; an error was expected');
  return error as never;
}

async function until<T>(what: string, call: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await call();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('@openmeter/sdk against Tally', () => {
  it('refuses a batch with an invalid event whole, naming it in the problem detail', async () => {
    const refusedOnly = { ...sent.tokens[2]!, id: 'only-in-the-refused-batch', data: { tokens: 1000, concurrency: 1 } };
    const invalid = { ...sent.tokens[0]!, id: 'bad', data: { tokens: 'abc', concurrency: 1 } };
    const error = await sdkError(openmeter.events.ingest([...sent.requests, refusedOnly, invalid]));
    expect(error.statusCode).toBe(400);
    expect(error.problem).toMatchObject({ type: 'about:blank', title: 'Bad Request', status: 400, instance: '/api/v1/events' });
    expect(error.problem.detail).toMatch(/^1 of 5 events are invalid, so none was written: event 4 \(id "bad"\): invalid-value: /);
  });

  it('ingests a batch with a duplicate (204, nothing returned) and a single event', async () => {
    await expect(openmeter.events.ingest([...sent.requests, sent.requests[0]!, sent.tokens[0]!, sent.tokens[1]!])).resolves.toBeUndefined();
    await expect(openmeter.events.ingest(sent.tokens[2]!)).resolves.toBeUndefined();
  });

  it('queries the whole retained range when from and to are left out: value a number, valueDecimal exact', async () => {
    const result = await until('all tokens counted', () => openmeter.meters.query('tokens'), (r) => r.data[0]?.value === 130.5);
    expect(result.data).toEqual([{ windowStart: expect.any(String), windowEnd: expect.any(String), subject: null, groupBy: {}, value: 130.5, valueDecimal: '130.5' }]);
    // The refused batch's only event (1000 tokens) was never written.
    const requests = await until('all requests counted', () => openmeter.meters.query('api_requests'), (r) => r.data[0]?.value === 3);
    expect(requests.data.map((row) => row.value)).toEqual([3]);
  });

  it('splits hours in windowTimeZone, filters subjects, and rounds unaligned from and to outward', async () => {
    const query = { from: at(-7, 17), to: at(4, 1), windowSize: WindowSize.HOUR, subject: ['acme-prod', 'acme-dev'] };
    const kolkata = await openmeter.meters.query('tokens', { ...query, windowTimeZone: 'Asia/Kolkata' });
    expect(kolkata).toMatchObject({ from: iso(-7), to: iso(5), windowSize: 'HOUR' });
    expect(kolkata.data).toEqual([
      { windowStart: iso(-7), windowEnd: iso(0), subject: 'acme-prod', groupBy: {}, value: 120, valueDecimal: '120' },
      { windowStart: iso(0), windowEnd: iso(5), subject: 'acme-dev', groupBy: {}, value: 3.5, valueDecimal: '3.5' },
    ]);
    const utc = await openmeter.meters.query('tokens', { ...query, windowTimeZone: 'UTC' });
    expect(utc.data.map((row) => [row.windowStart, row.windowEnd, row.subject, row.value])).toEqual([
      [iso(-7), iso(5), 'acme-dev', 3.5],
      [iso(-7), iso(5), 'acme-prod', 120],
    ]);
  });

  it('groups by a meter key and filters on one', async () => {
    const range = { from: at(-10), to: at(10) };
    const byRoute = await openmeter.meters.query('api_requests', { ...range, groupBy: ['route'] });
    expect(byRoute.data.map((row) => [row.subject, row.groupBy, row.value])).toEqual([
      [null, { route: '/a' }, 2],
      [null, { route: '/b' }, 1],
    ]);
    const routeA = await openmeter.meters.query('api_requests', { ...range, filterGroupBy: { route: '/a' }, subject: ['acme-prod', 'acme-dev'] });
    expect(routeA.data.map((row) => [row.subject, row.value])).toEqual([
      ['acme-dev', 1],
      ['acme-prod', 1],
    ]);
  });

  it('lists the configured meters and gets one by slug or by its stable id', async () => {
    const meters = await openmeter.meters.list();
    expect(meters.map((m) => [m.slug, m.aggregation, m.eventType])).toEqual([
      ['api_requests', 'COUNT', 'api.request'],
      ['tokens', 'SUM', 'llm.tokens'],
      ['peak', 'MAX', 'llm.tokens'],
    ]);
    for (const meter of meters) expect(meter.id).toMatch(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
    const tokens = meters.find((m) => m.slug === 'tokens')!;
    expect(tokens).toMatchObject({ valueProperty: '$.tokens' });
    await expect(openmeter.meters.get(String(tokens.id))).resolves.toEqual(tokens);
    await expect(openmeter.meters.get('tokens')).resolves.toEqual(tokens);
  });

  it('gives the SDK a problem whose detail says what is wrong with a bad query', async () => {
    const error = await sdkError(openmeter.meters.query('api_requests', { groupBy: ['model'] }));
    expect(error.statusCode).toBe(400);
    expect(error.problem).toMatchObject({ status: 400, title: 'Bad Request', instance: '/api/v1/meters/api_requests/query' });
    expect(error.problem.detail).toContain('groupBy "model" is not a group-by key of meter "api_requests"');
    const unknown = await sdkError(openmeter.meters.query('nope'));
    expect(unknown.statusCode).toBe(404);
    expect(unknown.problem.detail).toContain('no meter has the id or slug "nope"');
  });
});
