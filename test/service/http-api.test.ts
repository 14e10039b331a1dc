/**
 * The HTTP API of one service instance on the run's real broker: auth,
 * event ingestion, meter queries (same bodies as `tally replay --query`),
 * billing details, and readiness across a restart that must restore.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReplay } from '../../cli/commands/replay.js';
import { parseReplayArgs } from '../../cli/commands/replay-args.js';
import type { TallyConfig } from '../../schemas/index.js';
import { waitFor } from '../kafka/kafka-helpers.js';
import { poisonEventText, poisonEvents } from '../fixtures/poison-events.js';
import { serviceDocument, holdRestoration, minuteAgo, minuteMs, prepareService, removeStateDir, runService, testTokens, usageEvent, type RunningService, untilAnswer } from './service-fixtures.js';

let config: TallyConfig;
let running: RunningService;
const minute = minuteAgo(10);
const iso = (ms: number): string => new Date(ms).toISOString();
const tokensQuery = `/v1/meters/tokens/query?from=${iso(minute)}&to=${iso(minute + minuteMs)}`;

beforeAll(async () => {
  config = await prepareService('http-api', 2, [{ id: 'acme', subjects: ['acme-prod', 'acme-dev'] }]);
  running = await runService(config);
  await running.service.ready;
});

afterAll(async () => {
  await running.service.close();
  await removeStateDir(config);
});

describe('authentication', () => {
  it('refuses API calls without a token or with an unknown one, with a JSON error and WWW-Authenticate', async () => {
    for (const token of [null, 'not-a-token', `${testTokens[0]}x`]) {
      const answer = await running.api.get(tokensQuery, token);
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="tally"/);
      expect(answer.body.error.code).toBe('unauthorized');
      const posted = await running.api.post('/v1/events', '[]', { token });
      expect(posted.status).toBe(401);
    }
  });

  it('accepts every configured token, and leaves health, readiness and metrics open', async () => {
    for (const token of testTokens) expect((await running.api.get(tokensQuery, token)).status).toBe(200);
    expect((await running.api.get('/healthz', null)).body).toMatchObject({ status: 'ok' });
    expect((await running.api.get('/readyz', null))).toMatchObject({ status: 200, body: { ready: true } });
    const metrics = await running.api.get('/metrics', null);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
  });

  it('never writes a token to the log', () => {
    const log = running.logs.join('\n');
    expect(log).toContain(running.service.url);
    for (const token of testTokens) expect(log).not.toContain(token);
  });
});

describe('POST /v1/events', () => {
  const nowMs = Date.now();
  const valid = (id: string) => usageEvent({ id, subject: 'lonely', type: 'api.request', timeMs: nowMs - 60_000, data: { route: '/a' } });

  it('takes the valid events of a batch and lists every invalid one with its index and reason', async () => {
    const { subject: _dropped, ...noSubject } = valid('no-subject');
    const batch = [valid('ok-1'), noSubject, { ...valid('future'), time: iso(nowMs + 3_600_000) }, usageEvent({ id: 'bad-value', subject: 'lonely', timeMs: nowMs, data: { tokens: 'abc' } }), 42, valid('ok-2')];
    const answer = await running.api.post('/v1/events', JSON.stringify(batch));
    expect(answer.status).toBe(202);
    expect(answer.body.accepted).toBe(2);
    expect(answer.body.rejected.map((r: { index: number; id?: string; reason: string }) => [r.index, r.id, r.reason])).toEqual([
      [1, 'no-subject', 'missing-field'],
      [2, 'future', 'future-time'],
      [3, 'bad-value', 'invalid-value'],
      [4, undefined, 'not-an-object'],
    ]);
    for (const rejected of answer.body.rejected) expect(rejected.message.length).toBeGreaterThan(10);
  });

  it('answers 400 with every reason when no event is valid, and for bodies that hold no events', async () => {
    const allBad = await running.api.post('/v1/events', JSON.stringify({ ...valid('x'), specversion: '0.3' }), { contentType: 'application/cloudevents+json' });
    expect(allBad.status).toBe(400);
    expect(allBad.body.error.code).toBe('events-invalid');
    expect(allBad.body.accepted).toBe(0);
    expect(allBad.body.rejected).toEqual([expect.objectContaining({ index: 0, id: 'x', reason: 'unsupported-specversion' })]);
    const cases: [string, string][] = [
      ['[]', 'no-events'],
      ['{"specversion": "1.0",', 'invalid-json'],
      ['"just text"', 'not-an-event'],
    ];
    for (const [body, code] of cases) {
      const answer = await running.api.post('/v1/events', body);
      expect([answer.status, answer.body.error.code]).toEqual([400, code]);
    }
  });

  it('refuses events that would poison the pipeline with the reason the producer SDK gives, and takes the rest of the batch', async () => {
    const poisoned = poisonEvents.map((poison, i) => poisonEventText(poison, { id: `poison-${i}`, source: 'service-test', timeMs: nowMs - 60_000 }));
    const body = `[${[...poisoned, JSON.stringify(valid('after-poison'))].join(',')}]`;
    const answer = await running.api.post('/v1/events', body);
    expect(answer.status).toBe(202);
    expect(answer.body.accepted).toBe(1);
    const rejected = answer.body.rejected as { index: number; reason: string; message: string }[];
    expect(rejected.map((r) => [r.index, r.reason])).toEqual(poisonEvents.map((poison, i) => [i, poison.reason]));
    for (const [i, poison] of poisonEvents.entries()) expect(rejected[i]?.message, poison.label).toContain(poison.says);
  });

  it('refuses other content types (415) and bodies over 1 MiB (413)', async () => {
    const wrongType = await running.api.post('/v1/events', JSON.stringify(valid('t')), { contentType: 'text/plain' });
    expect([wrongType.status, wrongType.body.error.code]).toEqual([415, 'unsupported-media-type']);
    const huge = JSON.stringify(Array.from({ length: 1200 }, (_, i) => ({ ...valid(`big-${i}`), data: { route: '/a', padding: 'x'.repeat(1000) } })));
    expect(huge.length).toBeGreaterThan(1_048_576);
    const tooLarge = await running.api.post('/v1/events', huge, { contentType: 'application/cloudevents-batch+json' });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.error).toEqual({ code: 'body-too-large', message: expect.stringContaining('the limit is 1048576 bytes') });
  });
});

describe('GET /v1/meters/{slug}/query', () => {
  it('answers from the window stores once posted events are processed', async () => {
    const tokens = [3, 4, 5];
    const events = [
      ...tokens.map((t, i) => usageEvent({ id: `tok-${i}`, subject: 'acme-prod', timeMs: minute + i * 1_000, data: { tokens: t, concurrency: t } })),
      usageEvent({ id: 'req-1', subject: 'acme-prod', type: 'api.request', timeMs: minute + 5_000, data: { route: '/a' } }),
      usageEvent({ id: 'req-2', subject: 'acme-prod', type: 'api.request', timeMs: minute + 6_000, data: { route: '/b' } }),
      usageEvent({ id: 'req-3', subject: 'acme-prod', type: 'api.request', timeMs: minute + 7_000, data: { route: '/b' } }),
    ];
    const posted = await running.api.post('/v1/events', JSON.stringify(events));
    expect(posted.body).toEqual({ accepted: 6, rejected: [] });
    const row = { windowStart: iso(minute), windowEnd: iso(minute + minuteMs) };
    const answer = await untilAnswer('the tokens sum', () => running.api.get(tokensQuery), (a) => a.body?.data?.[0]?.value === '12');
    expect(answer.body).toEqual({ meter: 'tokens', from: row.windowStart, to: row.windowEnd, windowSize: null, windowTimeZone: 'UTC', data: [{ ...row, subject: null, groupBy: {}, value: '12' }] });
    const byRoute = await untilAnswer(
      'api requests by route',
      () => running.api.get(`/v1/meters/api_requests/query?from=${iso(minute)}&to=${iso(minute + minuteMs)}&subject=acme-prod&groupBy=route&windowSize=MINUTE`),
      // Both routes' rows, and every event of /b: the three requests may arrive in more than one fetch.
      (a) => a.body?.data?.length === 2 && a.body.data[1]?.value === '2',
    );
    expect(byRoute.body.data).toEqual([
      { ...row, subject: 'acme-prod', groupBy: { route: '/a' }, value: '1' },
      { ...row, subject: 'acme-prod', groupBy: { route: '/b' }, value: '2' },
    ]);
  });

  it('answers a bad query with the body tally replay --query prints', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tally-http-replay-'));
    try {
      const configPath = join(dir, 'tally.yaml');
      const inputPath = join(dir, 'events.jsonl');
      await writeFile(configPath, JSON.stringify(serviceDocument({ appId: config.app.id, stateDir: dir, customers: [] })));
      await writeFile(inputPath, '');
      const from = '2024-01-01T00:00:00Z';
      const queries: [string, string, number][] = [
        ['tokens', `from=2024-01-01T00:00:30Z&to=2024-01-01T01:00:00Z`, 400],
        ['tokens', `from=${from}&to=2024-01-01T01:00:00Z&windowSize=WEEK`, 400],
        ['tokens', `from=${from}&to=2024-01-01T01:00:00Z&colour=red`, 400],
        ['tokens', `from=${from}`, 400],
        ['no_such_meter', `from=${from}&to=2024-01-01T01:00:00Z`, 404],
      ];
      for (const [meter, params, status] of queries) {
        let printed = '';
        const exit = await runReplay(parseReplayArgs(['--config', configPath, '--input', inputPath, '--query', `meter=${meter}&${params}`]), { write: (t) => void (printed += t), error: () => undefined });
        const answer = await running.api.get(`/v1/meters/${meter}/query?${params}`);
        expect(exit).toBe(1);
        expect([answer.status, answer.body]).toEqual([status, JSON.parse(printed)]);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('GET /v1/customers/{id}/billing', () => {
  it("answers the customer's current billing details, and 404 for a customer nobody knows", async () => {
    const answer = await untilAnswer('the billing detail of acme', () => running.api.get('/v1/customers/acme/billing'), (a) => a.body?.charges?.[0]?.quantity === '12');
    expect(answer.body.customerId).toBe('acme');
    expect(answer.body.charges).toEqual([
      expect.objectContaining({ customerId: 'acme', plan: 'pro', charge: 'tokens', meter: 'tokens', currency: 'USD', quantity: '12', amount: '6', status: 'provisional' }),
    ]);
    expect(answer.body.charges[0].revision).toBeGreaterThanOrEqual(1);
    expect(Date.parse(answer.body.charges[0].periodStart)).toBeLessThanOrEqual(minute);
    const unknown = await running.api.get('/v1/customers/nobody/billing');
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'customer-unknown']);
  });
});

describe('GET /v1/customers/{id}/invoices', () => {
  it("answers the customer's invoices, newest first, with a line per billing detail, and 404 for a customer nobody knows", async () => {
    const answer = await untilAnswer('the invoice of acme', () => running.api.get('/v1/customers/acme/invoices'), (a) => a.body?.invoices?.[0]?.total === '6');
    expect(answer.body.customerId).toBe('acme');
    expect(answer.body.invoices).toHaveLength(1);
    expect(answer.body.invoices[0]).toMatchObject({ customerId: 'acme', currency: 'USD', total: '6', status: 'draft', lines: [expect.objectContaining({ charge: 'tokens', plan: 'pro', quantity: '12', amount: '6', status: 'provisional' })] });
    expect(answer.body.invoices[0].invoiceId).toMatch(/^[0-9a-f]{32}$/);
    const unknown = await running.api.get('/v1/customers/nobody/invoices');
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'customer-unknown']);
  });
});

describe('readiness', () => {
  it('is 503 with what is left while a restarted instance restores, refuses queries meanwhile, then 200 with the same answers', async () => {
    const before = await running.api.get(tokensQuery);
    expect(before.body.data[0].value).toBe('12');
    await running.service.close();
    await removeStateDir(config);
    const hold = await holdRestoration(`${config.app.id}-meter-tokens-changelog`, 0);
    try {
      running = await runService(config);
      const heldTask = () => running.service.app.snapshot().tasks.find((t) => t.id === '1_0');
      await waitFor('task 1_0 to restore (and stay held)', () => heldTask()?.restoring === true);
      const restoring = await running.api.get('/readyz', null);
      expect(restoring.status).toBe(503);
      expect(restoring.body.ready).toBe(false);
      expect(restoring.body.restoreRemaining).toBeGreaterThanOrEqual(1);
      const refused = await running.api.get(tokensQuery);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.body.error.code).toBe('partitions-unavailable');
      expect(refused.body.error.partitions).toContainEqual(expect.objectContaining({ partition: 0, reason: expect.stringContaining('restoring') }));
    } finally {
      await hold.release();
    }
    await running.service.ready;
    expect((await running.api.get('/readyz', null)).status).toBe(200);
    expect(await running.api.get(tokensQuery)).toMatchObject({ status: 200, body: before.body });
  });
});
