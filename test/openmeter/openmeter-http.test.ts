/**
 * The OpenMeter-compatible routes at the HTTP level, for what the SDK does
 * not show: the three event content types and the empty 204, problem details
 * for every error (auth, unknown path, content type), the query as a POST
 * body, filterCustomerId and groupBy=customer_id, parameters Tally does not
 * support, and CSV as OpenMeter writes it, on /api/v1 and /v1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TallyConfig } from '../../schemas/index.js';
import { minuteMs, removeStateDir, runService, untilAnswer, type ApiAnswer, type RunningService } from '../service/service-fixtures.js';
import { kolkataHourBoundaryMs, prepareOpenMeterService, usage } from './openmeter-fixtures.js';

let config: TallyConfig;
let running: RunningService;
const b = kolkataHourBoundaryMs();
const sent = usage(b);
const iso = (minutes: number): string => new Date(b + minutes * minuteMs).toISOString();
const range = `from=${iso(-10)}&to=${iso(10)}`;

function call(path: string, init: { method?: string; body?: string; headers?: Record<string, string>; token?: string | null } = {}): Promise<ApiAnswer> {
  const { token, ...request } = init;
  return running.api.request(path, { method: 'GET', ...request }, token);
}

const post = (path: string, body: unknown, contentType = 'application/json') => call(path, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': contentType } });

beforeAll(async () => {
  config = await prepareOpenMeterService('openmeter-http');
  running = await runService(config);
  await running.service.ready;
});

afterAll(async () => {
  await running.service.close();
  await removeStateDir(config);
});

function expectProblem(answer: ApiAnswer, status: number, detail: RegExp): void {
  expect(answer.status).toBe(status);
  expect(answer.headers.get('content-type')).toBe('application/problem+json');
  expect(answer.body).toMatchObject({ type: 'about:blank', status, instance: expect.stringMatching(/^\/api\/v1\//) });
  expect(answer.body.title.length).toBeGreaterThan(0);
  expect(answer.body.detail).toMatch(detail);
}

describe('POST /api/v1/events', () => {
  it('answers 204 with no body for each of the three content types', async () => {
    // What the SDK adds to each event before it sends it.
    const [first, ...others] = [...sent.requests, ...sent.tokens].map((event) => ({ specversion: '1.0', ...event }));
    const single = await post('/api/v1/events', first, 'application/cloudevents+json');
    expect([single.status, single.text]).toEqual([204, '']);
    expect((await post('/api/v1/events', others.slice(0, 2), 'application/cloudevents-batch+json')).status).toBe(204);
    expect((await post('/api/v1/events', others.slice(2), 'application/json')).status).toBe(204);
  });

  it('answers errors as problem details: another content type, no token, an unknown path, creating a meter', async () => {
    expectProblem(await post('/api/v1/events', sent.requests, 'text/plain'), 415, /Content-Type "text\/plain" is not accepted/);
    const anonymous = await call('/api/v1/meters', { token: null });
    expectProblem(anonymous, 401, /Authorization: Bearer/);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer realm="tally"/);
    expectProblem(await call('/api/v1/subjects'), 404, /no endpoint \/api\/v1\/subjects/);
    const create = await post('/api/v1/meters', { slug: 'new_meter' });
    expectProblem(create, 405, /POST is not supported on \/api\/v1\/meters; use GET/);
    expect(create.headers.get('allow')).toBe('GET');
  });
});

describe('queries', () => {
  beforeAll(async () => {
    await untilAnswer('every event counted', () => call('/api/v1/meters/tokens/query'), (a) => a.body?.data?.[0]?.valueDecimal === '130.5');
    await untilAnswer('every request counted', () => call('/api/v1/meters/api_requests/query'), (a) => a.body?.data?.[0]?.valueDecimal === '3');
  });

  it('takes the query as a JSON body (POST), with clientId accepted and ignored', async () => {
    const body = { clientId: 'f74e58ed', from: iso(-10), to: iso(10), groupBy: ['route'], filterGroupBy: { route: ['/a'] } };
    const answer = await post('/api/v1/meters/api_requests/query', body);
    expect(answer.headers.get('content-type')).toBe('application/json');
    expect(answer.body).toEqual({
      from: iso(-10).replace('.000Z', 'Z'),
      to: iso(10).replace('.000Z', 'Z'),
      data: [{ windowStart: iso(-10).replace('.000Z', 'Z'), windowEnd: iso(10).replace('.000Z', 'Z'), subject: null, groupBy: { route: '/a' }, value: 2, valueDecimal: '2' }],
    });
    const get = await call(`/api/v1/meters/api_requests/query?clientId=f74e58ed&${range}&groupBy=route&filterGroupBy[route]=/a`);
    expect(get.body).toEqual(answer.body);
  });

  it('maps filterCustomerId to the customer\'s subjects and splits rows by customer', async () => {
    const acme = await call(`/api/v1/meters/tokens/query?${range}&filterCustomerId=acme`);
    expect(acme.body.data.map((r: Record<string, unknown>) => [r['customerId'], r['subject'], r['valueDecimal']])).toEqual([['acme', null, '123.5']]);
    const byCustomer = await call(`/api/v1/meters/tokens/query?${range}&groupBy=customer_id`);
    expect(byCustomer.body.data.map((r: Record<string, unknown>) => [r['customerId'], r['valueDecimal']])).toEqual([
      ['acme', '123.5'],
      ['kumo', '7'],
    ]);
    expectProblem(await call(`/api/v1/meters/tokens/query?filterCustomerId=nobody`), 400, /filterCustomerId "nobody" is not a customer in the config/);
  });

  it('refuses what it does not support with a detail that names it', async () => {
    expectProblem(await call('/api/v1/meters/tokens/query?advancedMeterGroupByFilters[route][$eq]=/a'), 400, /advancedMeterGroupByFilters is not supported/);
    expectProblem(await call('/api/v1/meters/tokens/query?page=2'), 400, /query parameter "page" is not supported/);
    expectProblem(await post('/api/v1/meters/api_requests/query', { filterGroupBy: { route: ['/a', '/b'] } }), 400, /filterGroupBy\[route\] has 2 values/);
    expectProblem(await post('/api/v1/meters/api_requests/query', { windowSize: 'WEEK' }), 400, /windowSize "WEEK" is not one of/);
  });

  it('writes CSV as OpenMeter does when asked with Accept: text/csv, on /api/v1 and /v1', async () => {
    const query = `${range}&groupBy=route&subject=acme-prod&subject=acme-dev`;
    const csv = await call(`/api/v1/meters/api_requests/query?${query}`, { headers: { Accept: 'text/csv' } });
    expect(csv.headers.get('content-type')).toBe('text/csv');
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename=api_requests.csv');
    const [start, end] = [iso(-10), iso(10)].map((t) => t.replace('.000Z', 'Z'));
    expect(csv.text).toBe(
      'window_start,window_end,subject,route,value\n' +
        `${start},${end},acme-dev,/a,1.000000\n` +
        `${start},${end},acme-prod,/a,1.000000\n` +
        `${start},${end},acme-prod,/b,1.000000\n`,
    );
    const v1 = await call(`/v1/meters/api_requests/query?${query}`, { headers: { Accept: 'text/csv' } });
    expect(v1.text).toBe(csv.text);
    const tokens = await call(`/api/v1/meters/tokens/query?${range}&groupBy=customer_id`, { headers: { Accept: 'text/csv' } });
    expect(tokens.text).toBe(`window_start,window_end,customer_id,value\n${start},${end},acme,123.500000\n${start},${end},kumo,7.000000\n`);
  });

  it('leaves the /v1 JSON answer as it was: value an exact string', async () => {
    const answer = await call(`/v1/meters/tokens/query?${range}`);
    expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(answer.body.data).toEqual([{ windowStart: iso(-10), windowEnd: iso(10), subject: null, groupBy: {}, value: '130.5' }]);
  });
});
