import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EntitlementConfig, MeterConfig } from '../../schemas/config-types.js';
import { entitlementStoreNames, entitlementTermsKey, type EntitlementTerms } from '../../processors/index.js';
import { closeTracked, ratingConfig, RatingHarness, startTracked, usage } from './rating-harness.js';
import { acmeWith, briefAlert, briefEntitlement, entitlementReaders } from './entitlement-harness.js';

afterEach(closeTracked);

// acme is in Los Angeles with anchor day 1: February's period is 2024-02-01T00:00-08:00 to 2024-03-01T00:00-08:00.
const tokens = (time: string, value: number, data: Record<string, unknown> = {}) => usage('llm.tokens', 'acme-prod', time, { tokens: value, ...data });
/** A harness with acme holding `entitlements`, and readers of both topics. */
async function startWith(...entitlements: EntitlementConfig[]) {
  const h = await startTracked(ratingConfig({ customers: [acmeWith(...entitlements)] }));
  return { h, read: entitlementReaders(h) };
}
const tokensBudget = { key: 'tokens-monthly', meter: 'tokens', limit: '100', alerts: [50, 80, 100] };

describe('entitlements', () => {
  it('report usage, remaining, overage and access per billing period, with a revision per change', async () => {
    const { h, read } = await startWith(tokensBudget);
    await h.pipe(
      tokens('2024-02-10T10:00:00Z', 40),
      tokens('2024-02-10T10:05:00Z', 60),
      tokens('2024-02-10T10:06:00Z', 0.5),
    );
    expect(read.entitlements().map(briefEntitlement)).toEqual([
      'tokens-monthly 2024-02-01 u=40 rem=60 over=0 access r1',
      'tokens-monthly 2024-02-01 u=100 rem=0 over=0 denied r2',
      'tokens-monthly 2024-02-01 u=100.5 rem=0 over=0.5 denied r3',
    ]);
    const [record] = (await h.pipe(tokens('2024-02-10T10:07:00Z', 1)), read.entitlements());
    expect(record).toEqual({
      customerId: 'acme',
      entitlement: 'tokens-monthly',
      meter: 'tokens',
      periodStart: '2024-02-01T00:00:00.000-08:00',
      periodEnd: '2024-03-01T00:00:00.000-08:00',
      limit: '100',
      usage: '101.5',
      remaining: '0',
      overage: '1.5',
      hasAccess: false,
      revision: 4,
    });
  });

  it('alert each threshold once, the first time usage reaches it, and never again in the period', async () => {
    const { h, read } = await startWith(tokensBudget);
    await h.pipe(tokens('2024-02-10T10:00:10Z', 49));
    expect(read.alerts()).toEqual([]);
    await h.pipe(
      tokens('2024-02-10T10:01:10Z', 1),
      tokens('2024-02-10T10:02:10Z', 29),
      tokens('2024-02-10T10:03:10Z', 1),
      tokens('2024-02-10T10:04:10Z', 20),
      tokens('2024-02-10T10:05:10Z', 500),
    );
    expect(read.alerts().map(briefAlert)).toEqual([
      'tokens-monthly 50% 2024-02-01 u=50 at 2024-02-10T10:01:00.000Z',
      'tokens-monthly 80% 2024-02-01 u=80 at 2024-02-10T10:03:00.000Z',
      'tokens-monthly 100% 2024-02-01 u=100 at 2024-02-10T10:04:00.000Z',
    ]);
    expect(h.counters.alertRecords).toBe(3);
  });

  it('send every threshold one window crosses, each with its own key and the same usage and crossing time', async () => {
    const { h, read } = await startWith(tokensBudget);
    await h.pipe(
      tokens('2024-02-10T10:00:30Z', 10),
      tokens('2024-02-10T10:01:30Z', 95),
    );
    const alerts = read.alerts();
    expect(alerts.map((a) => a.key)).toEqual([
      'acme|tokens-monthly|50|2024-02-01T00:00:00.000-08:00',
      'acme|tokens-monthly|80|2024-02-01T00:00:00.000-08:00',
      'acme|tokens-monthly|100|2024-02-01T00:00:00.000-08:00',
    ]);
    expect(alerts[2]?.value).toEqual({
      customerId: 'acme',
      entitlement: 'tokens-monthly',
      threshold: 100,
      limit: '100',
      usage: '105',
      periodStart: '2024-02-01T00:00:00.000-08:00',
      periodEnd: '2024-03-01T00:00:00.000-08:00',
      crossedAt: '2024-02-10T10:01:00.000Z',
    });
    expect(alerts.map((a) => a.value.usage)).toEqual(['105', '105', '105']);
  });

  it('ignore a duplicate event, count a late one within the allowed lateness at its own window, and leave one past it out', async () => {
    const { h, read } = await startWith({ key: 'tokens-monthly', meter: 'tokens', limit: '100', alerts: [100] });
    const first = tokens('2024-02-10T10:00:00Z', 60);
    await h.pipe(first);
    await h.pipe(first); // same source and id: a duplicate
    expect(read.alerts()).toEqual([]);
    await h.pipe(tokens('2024-02-10T10:30:00Z', 30));
    await h.pipe(tokens('2024-02-10T09:50:00Z', 10)); // 40 minutes late, within the hour allowed
    expect(read.alerts().map(briefAlert)).toEqual(['tokens-monthly 100% 2024-02-01 u=100 at 2024-02-10T09:50:00.000Z']);
    await h.pipe(tokens('2024-02-10T12:00:00Z', 1));
    await h.pipe(tokens('2024-02-10T10:40:00Z', 1000)); // more than an hour behind stream time: late, not counted
    expect(h.metering.late()).toHaveLength(1);
    expect(read.entitlements().map((e) => e.usage)).toEqual(['60', '90', '100', '101']);
    expect(read.alerts()).toEqual([]);
  });

  it('start over in the next billing period: the same threshold alerts again there, once', async () => {
    const { h, read } = await startWith({ key: 'tokens-monthly', meter: 'tokens', limit: '100', alerts: [80] });
    await h.pipe(tokens('2024-02-29T10:00:00Z', 90));
    await h.pipe(tokens('2024-03-01T07:59:00Z', 5)); // still February in Los Angeles
    await h.pipe(tokens('2024-03-01T08:00:00Z', 79)); // March 1 00:00 in Los Angeles
    await h.pipe(
      tokens('2024-03-02T08:00:00Z', 1),
      tokens('2024-03-03T08:00:00Z', 50),
    );
    expect(read.alerts().map(briefAlert)).toEqual(['tokens-monthly 80% 2024-02-01 u=90 at 2024-02-29T10:00:00.000Z', 'tokens-monthly 80% 2024-03-01 u=80 at 2024-03-02T08:00:00.000Z']);
    expect(read.entitlements().map(briefEntitlement).slice(-1)).toEqual(['tokens-monthly 2024-03-01 u=130 rem=0 over=30 denied r3']);
  });

  it('count a LATEST meter as its last value: usage going down gives access back but never takes an alert back', async () => {
    const { h, read } = await startWith({ key: 'seats', meter: 'seats', limit: '10', alerts: [100] });
    const seats = (time: string, value: number) => usage('seats.set', 'acme-prod', time, { seats: value });
    await h.pipe(
      seats('2024-02-10T10:00:00Z', 5),
      seats('2024-02-10T11:00:00Z', 12),
      seats('2024-02-10T12:00:00Z', 3),
      seats('2024-02-10T13:00:00Z', 15),
    );
    expect(read.entitlements().map(briefEntitlement)).toEqual([
      'seats 2024-02-01 u=5 rem=5 over=0 access r1',
      'seats 2024-02-01 u=12 rem=0 over=2 denied r2',
      'seats 2024-02-01 u=3 rem=7 over=0 access r3',
      'seats 2024-02-01 u=15 rem=0 over=5 denied r4',
    ]);
    expect(read.alerts().map(briefAlert)).toEqual(['seats 100% 2024-02-01 u=12 at 2024-02-10T11:00:00.000Z']);
  });

  it('count a UNIQUE_COUNT meter as the distinct values over the whole period, across windows and subjects', async () => {
    const { h, read } = await startWith({ key: 'users', meter: 'users', limit: '3', alerts: [100] });
    const seen = (subject: string, time: string, user: string) => usage('user.seen', subject, time, { user });
    await h.pipe(
      seen('acme-prod', '2024-02-10T10:00:00Z', 'ann'),
      seen('acme-dev', '2024-02-10T10:00:00Z', 'ann'),
      seen('acme-prod', '2024-02-11T10:00:00Z', 'ann'),
      seen('acme-prod', '2024-02-11T10:00:00Z', 'bob'),
      seen('acme-dev', '2024-02-12T10:00:00Z', 'cid'),
      seen('acme-dev', '2024-02-13T10:00:00Z', 'bob'),
    );
    expect(read.entitlements().map((e) => e.usage)).toEqual(['1', '2', '3']);
    expect(read.alerts().map(briefAlert)).toEqual(['users 100% 2024-02-01 u=3 at 2024-02-12T10:00:00.000Z']);
  });

  it('count only the usage a filter matches', async () => {
    const meters: MeterConfig[] = [{ slug: 'tokens', eventType: 'llm.tokens', aggregation: 'SUM', valueProperty: '$.tokens', groupBy: { model: '$.model' } }];
    const gpt4 = { key: 'gpt4', meter: 'tokens', filter: { model: ['gpt-4', 'gpt-4o'] }, limit: '50', alerts: [100] };
    const h = await startTracked(ratingConfig({ meters, customers: [acmeWith(gpt4, { key: 'all', meter: 'tokens', limit: '1000', alerts: [] })] }));
    const read = entitlementReaders(h);
    await h.pipe(
      tokens('2024-02-10T10:00:00Z', 40, { model: 'gpt-4' }),
      tokens('2024-02-10T10:01:00Z', 500, { model: 'mini' }),
      tokens('2024-02-10T10:02:00Z', 9, { model: 'gpt-4o' }),
    );
    await h.pipe(tokens('2024-02-10T10:03:00Z', 7)); // no model
    await h.pipe(tokens('2024-02-10T10:04:00Z', 1, { model: 'gpt-4' }));
    const last = new Map(read.entitlements().map((e) => [e.entitlement, e.usage]));
    expect(Object.fromEntries(last)).toEqual({ gpt4: '50', all: '557' });
    expect(read.alerts().map(briefAlert)).toEqual(['gpt4 100% 2024-02-01 u=50 at 2024-02-10T10:04:00.000Z']);
  });

  it('track a meter no plan charges', async () => {
    const { h, read } = await startWith({ key: 'requests', meter: 'api_requests', limit: '2', alerts: [100] });
    for (const minute of ['00', '01']) await h.pipe(usage('api.request', 'acme-prod', `2024-02-10T10:${minute}:00Z`, { route: '/v1' }));
    expect(read.entitlements().map(briefEntitlement)).toEqual(['requests 2024-02-01 u=1 rem=1 over=0 access r1', 'requests 2024-02-01 u=2 rem=0 over=0 denied r2']);
    expect(read.alerts()).toHaveLength(1);
    expect(h.billing().map((d) => d.charge)).toEqual([]);
  });

  it('track a meter that only an entitlement added on the customers topic counts, and nothing of that meter for other customers', async () => {
    const { h, read } = await startWith(); // no entitlement in the config: no plan or configured entitlement counts api_requests
    const other = { id: 'other', subjects: ['other-1'], timezone: 'UTC', currency: 'USD', billingAnchor: '2024-01-01', plan: 'pro' };
    await h.putCustomer('other-1', other);
    const counted = { ...acmeWith({ key: 'requests', meter: 'api_requests', limit: '2', alerts: [100] }), subjects: [...acmeWith().subjects] };
    for (const subject of counted.subjects) await h.putCustomer(subject, counted);
    for (const minute of ['00', '01']) await h.pipe(usage('api.request', 'acme-prod', `2024-02-10T10:${minute}:00Z`, { route: '/v1' }));
    await h.pipe(usage('api.request', 'other-1', '2024-02-10T10:02:00Z', { route: '/v1' }), usage('api.request', 'nobody', '2024-02-10T10:02:00Z', { route: '/v1' }));
    expect(read.entitlements().map(briefEntitlement)).toEqual(['requests 2024-02-01 u=1 rem=1 over=0 access r1', 'requests 2024-02-01 u=2 rem=0 over=0 denied r2']);
    expect(read.alerts()).toHaveLength(1);
    // Usage nothing prices or counts is neither rated nor dead-lettered, as before the delta reached the join.
    expect(h.deadLetters()).toEqual([]);
    expect(h.billing()).toEqual([]);
    expect(h.counters.usageJoined).toBe(2);
  });

  it('keep what the customers topic says about a customer’s entitlements, for queries before any usage', async () => {
    const { h } = await startWith();
    const newco = { id: 'newco', subjects: ['newco-1', 'newco-2'], timezone: 'UTC', currency: 'USD', billingAnchor: '2024-01-05', plan: 'pro', entitlements: [tokensBudget] };
    for (const subject of newco.subjects) await h.putCustomer(subject, newco);
    const terms = () => h.driver.getKeyValueStore<EntitlementTerms>(entitlementStoreNames.terms, 0).get(entitlementTermsKey('newco'));
    expect(await terms()).toEqual({ customerId: 'newco', entitlements: [tokensBudget], timezone: 'UTC', billingAnchor: '2024-01-05' });
    const { entitlements: _removed, ...without } = newco;
    await h.putCustomer('newco-1', without);
    expect((await terms())?.entitlements).toEqual([]);
  });

  it('do not send an alert again after a restart, and continue revisions', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'tally-entitlements-restart-'));
    const config = ratingConfig({ customers: [acmeWith(tokensBudget)] });
    try {
      const first = await RatingHarness.start(config, { stateDir });
      const firstRead = entitlementReaders(first);
      await first.pipe(tokens('2024-02-10T10:00:00Z', 60));
      expect(firstRead.alerts().map(briefAlert)).toEqual(['tokens-monthly 50% 2024-02-01 u=60 at 2024-02-10T10:00:00.000Z']);
      await first.close();

      const second = await startTracked(config, { stateDir });
      const read = entitlementReaders(second);
      await second.pipe(tokens('2024-02-10T10:01:00Z', 25));
      expect(read.alerts().map(briefAlert)).toEqual(['tokens-monthly 80% 2024-02-01 u=85 at 2024-02-10T10:01:00.000Z']);
      expect(read.entitlements().map(briefEntitlement)).toEqual(['tokens-monthly 2024-02-01 u=85 rem=15 over=0 access r2']);
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('apply an entitlement changed on the customers topic from the next usage when the change came after the period', async () => {
    const { h, read } = await startWith({ key: 'tokens-monthly', meter: 'tokens', limit: '100', alerts: [100] });
    await h.pipe(tokens('2024-02-10T10:00:00Z', 60));
    const raised = { ...acmeWith({ key: 'tokens-monthly', meter: 'tokens', limit: '50', alerts: [100] }), subjects: [...acmeWith().subjects] };
    for (const subject of raised.subjects) await h.putCustomer(subject, raised);
    await h.pipe(tokens('2024-02-10T10:01:00Z', 1));
    expect(read.entitlements().map(briefEntitlement)).toEqual(['tokens-monthly 2024-02-01 u=60 rem=40 over=0 access r1', 'tokens-monthly 2024-02-01 u=61 rem=0 over=11 denied r2']);
    expect(read.alerts().map(briefAlert)).toEqual(['tokens-monthly 100% 2024-02-01 u=61 at 2024-02-10T10:01:00.000Z']);
  });

  it('apply a limit changed on the customers topic during the period at once, alerting what the usage already reaches', async () => {
    const h = await startTracked(ratingConfig({ customers: [acmeWith({ key: 'tokens-monthly', meter: 'tokens', limit: '100', alerts: [100] })] }), { wallClockMs0: Date.parse('2024-02-15T00:00:00Z') });
    const read = entitlementReaders(h);
    await h.pipe(tokens('2024-02-10T10:00:00Z', 60));
    expect(read.entitlements().map(briefEntitlement)).toEqual(['tokens-monthly 2024-02-01 u=60 rem=40 over=0 access r1']);
    const lowered = { ...acmeWith({ key: 'tokens-monthly', meter: 'tokens', limit: '50', alerts: [100] }), subjects: [...acmeWith().subjects] };
    for (const subject of lowered.subjects) await h.putCustomer(subject, lowered);
    // No usage after the change: the record and the alert come from it, crossed when it was written.
    expect(read.entitlements().map(briefEntitlement)).toEqual(['tokens-monthly 2024-02-01 u=60 rem=0 over=10 denied r2']);
    expect(read.alerts().map(briefAlert)).toEqual(['tokens-monthly 100% 2024-02-01 u=60 at 2024-02-15T00:00:00.000Z']);
    await h.pipe(tokens('2024-02-10T10:01:00Z', 1));
    expect(read.entitlements().map(briefEntitlement)).toEqual(['tokens-monthly 2024-02-01 u=61 rem=0 over=11 denied r3']);
    expect(read.alerts()).toEqual([]);
  });

  it('alert at once a threshold added on the customers topic that the usage already reaches, and leave the record as it was', async () => {
    const h = await startTracked(ratingConfig({ customers: [acmeWith({ key: 'tokens-monthly', meter: 'tokens', limit: '100', alerts: [100] })] }), { wallClockMs0: Date.parse('2024-02-15T00:00:00Z') });
    const read = entitlementReaders(h);
    await h.pipe(tokens('2024-02-10T10:00:00Z', 60));
    read.entitlements();
    const warned = { ...acmeWith({ key: 'tokens-monthly', meter: 'tokens', limit: '100', alerts: [50, 80, 100] }), subjects: [...acmeWith().subjects] };
    for (const subject of warned.subjects) await h.putCustomer(subject, warned);
    expect(read.alerts().map(briefAlert)).toEqual(['tokens-monthly 50% 2024-02-01 u=60 at 2024-02-15T00:00:00.000Z']);
    expect(read.entitlements()).toEqual([]);
  });
});
