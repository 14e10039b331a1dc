import { afterEach, describe, expect, it } from 'vitest';
import type { BillingDetailRecord } from '../../schemas/billing-detail.js';
import { detailIdOf } from '../../processors/index.js';
import { acme, perUnitTokens, ratingConfig, RatingHarness, usage } from './rating-harness.js';

let harness: RatingHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(...args: Parameters<typeof RatingHarness.start>): Promise<RatingHarness> {
  harness = await RatingHarness.start(...args);
  return harness;
}

const brief = (d: BillingDetailRecord): string => `${d.charge} ${d.periodStart} q=${d.quantity} a=${d.amount} ${d.status} r${d.revision}`;
const tokens = (subject: string, time: string, value: number | string) => usage('llm.tokens', subject, time, { tokens: value });

describe('rating, end to end on the driver', () => {
  it('bills usage in the period that holds it in the customer zone (Kill Bill UTC/PST case)', async () => {
    const h = await start(ratingConfig({ customers: [{ ...acme, billingAnchor: '2024-01-21' }] }));
    await h.pipe(tokens('acme-prod', '2024-02-21T06:05:00Z', 1000)); // 2024-02-20 22:05 in Los Angeles
    const [record] = h.billingRecords();
    expect(record?.key).toBe('acme|tokens|2024-01-21T00:00:00.000-08:00');
    expect(record?.value).toEqual({
      detailId: detailIdOf('acme|tokens|2024-01-21T00:00:00.000-08:00'),
      customerId: 'acme',
      plan: 'pro',
      charge: 'tokens',
      meter: 'tokens',
      periodStart: '2024-01-21T00:00:00.000-08:00',
      periodEnd: '2024-02-21T00:00:00.000-08:00',
      billingPeriodStart: '2024-01-21T00:00:00.000-08:00',
      billingPeriodEnd: '2024-02-21T00:00:00.000-08:00',
      timezone: 'America/Los_Angeles',
      currency: 'USD',
      quantity: '1000',
      amount: '6',
      lines: [{ label: 'units', quantity: '1000', unitPrice: '0.001', flatFee: '5', amount: '6' }],
      status: 'provisional',
      revision: 1,
    });
  });

  it('re-rates the cumulative quantity when late usage arrives: one record per change, revision + 1, never double counted', async () => {
    const h = await start();
    await h.pipe(tokens('acme-prod', '2024-02-10T10:00:00Z', 1000));
    await h.pipe(tokens('acme-dev', '2024-02-10T10:05:00Z', '500.5'));
    await h.pipe(tokens('acme-prod', '2024-02-10T10:00:30Z', 250)); // late (within allowedLateness), into the first window again
    expect(h.billing().map(brief)).toEqual([
      'tokens 2024-02-01T00:00:00.000-08:00 q=1000 a=6 provisional r1',
      'tokens 2024-02-01T00:00:00.000-08:00 q=1500.5 a=6.5 provisional r2', // 6.5005 → 6.50
      'tokens 2024-02-01T00:00:00.000-08:00 q=1750.5 a=6.75 provisional r3',
    ]);
    // Stream time passes 11:06: the meter windows close and are re-emitted as finals — adding nothing to billing.
    await h.pipe(tokens('acme-prod', '2024-02-10T12:00:00Z', 1));
    expect(h.metering.meters().filter((m) => m.final).map((m) => `${m.subject} ${m.value}`)).toEqual(['acme-dev 500.5', 'acme-prod 1250']);
    expect(h.billing().map(brief)).toEqual(['tokens 2024-02-01T00:00:00.000-08:00 q=1751.5 a=6.75 provisional r4']);
  });

  it('coalesces changes between commits into one record, still one revision per emitted record', async () => {
    const h = await start(undefined, { commitEveryRecords: 0 });
    await h.pipe(tokens('acme-prod', '2024-02-10T10:00:00Z', 1), tokens('acme-prod', '2024-02-10T10:00:10Z', 2), tokens('acme-dev', '2024-02-10T10:07:00Z', 3));
    await h.driver.commit();
    expect(h.billing().map(brief)).toEqual(['tokens 2024-02-01T00:00:00.000-08:00 q=6 a=5.01 provisional r1']);
    await h.pipe(tokens('acme-prod', '2024-02-10T10:08:00Z', 4), tokens('acme-prod', '2024-02-10T10:09:00Z', 5));
    await h.driver.commit();
    expect(h.billing().map(brief)).toEqual(['tokens 2024-02-01T00:00:00.000-08:00 q=15 a=5.02 provisional r2']);
    await h.driver.commit();
    expect(h.billing()).toEqual([]);
  });

  it('rates LATEST as the period’s last value, MAX as its maximum and UNIQUE_COUNT as the distinct count over the period', async () => {
    const plans = [
      {
        key: 'pro',
        charges: [
          { key: 'seats', meter: 'seats', model: 'per_unit' as const, unitPrice: '10' },
          { key: 'peak', meter: 'peak', model: 'per_unit' as const, unitPrice: '1' },
          { key: 'users', meter: 'users', model: 'per_unit' as const, unitPrice: '2' },
        ],
      },
    ];
    const h = await start(ratingConfig({ plans }));
    const at = (minute: number) => `2024-02-10T10:${String(minute).padStart(2, '0')}:00Z`;
    await h.pipe(
      usage('seats.set', 'acme-prod', at(0), { seats: 5 }),
      usage('seats.set', 'acme-dev', at(10), { seats: 3 }),
      usage('seats.set', 'acme-prod', at(5), { seats: 9 }), // arrives last, but is not the latest
      usage('peak.gauge', 'acme-prod', at(0), { value: 7 }),
      usage('peak.gauge', 'acme-prod', at(10), { value: 4 }),
      usage('peak.gauge', 'acme-dev', at(20), { value: '9.5' }),
      usage('peak.gauge', 'acme-prod', at(30), { value: 2 }),
      usage('user.seen', 'acme-prod', at(0), { user: 'u1' }),
      usage('user.seen', 'acme-prod', at(0), { user: 'u2' }),
      usage('user.seen', 'acme-dev', at(10), { user: 'u1' }), // same user, another window and subject
      usage('user.seen', 'acme-prod', at(20), { user: 'u3' }),
    );
    const last = new Map(h.billing().map((d) => [d.charge, d]));
    expect(last.get('seats')).toMatchObject({ quantity: '3', amount: '30' });
    expect(last.get('peak')).toMatchObject({ quantity: '9.5', amount: '9.5' });
    expect(last.get('users')).toMatchObject({ quantity: '3', amount: '6' }); // a sum of windows would say 4
  });

  it('attributes time-of-day usage by local time in a +05:30 zone (Asia/Kolkata)', async () => {
    const meters = [{ slug: 'cpu_seconds', eventType: 'compute.usage', aggregation: 'SUM' as const, valueProperty: '$.cpu', groupBy: {} }];
    const intervals = [
      { from: '00:00', to: '06:00', unitPrice: '0.02' },
      { from: '06:00', to: '24:00', unitPrice: '0.03' },
    ];
    const customers = [{ id: 'tata', subjects: ['tata-1'], timezone: 'Asia/Kolkata', currency: 'INR', billingAnchor: '2024-01-01', plan: 'compute' }];
    const h = await start(ratingConfig({ meters, customers, plans: [{ key: 'compute', charges: [{ key: 'compute', meter: 'cpu_seconds', model: 'time_of_day', intervals }] }] }));
    await h.pipe(usage('compute.usage', 'tata-1', '2024-03-01T00:29:00Z', { cpu: 100 })); // 05:59 IST
    await h.pipe(usage('compute.usage', 'tata-1', '2024-03-01T00:30:00Z', { cpu: 200 })); // 06:00 IST (00:30 UTC is still "night" in UTC)
    const details = h.billing();
    expect(details.at(-1)).toMatchObject({
      periodStart: '2024-03-01T00:00:00.000+05:30',
      periodEnd: '2024-04-01T00:00:00.000+05:30',
      currency: 'INR',
      quantity: '300',
      amount: '8',
      lines: [
        { label: '00:00-06:00', from: '00:00', to: '06:00', quantity: '100', unitPrice: '0.02', amount: '2' },
        { label: '06:00-24:00', from: '06:00', to: '24:00', quantity: '200', unitPrice: '0.03', amount: '6' },
      ],
    });
    expect(details.map((d) => d.revision)).toEqual([1, 2]);
  });

  it('rounds a JPY customer’s lines to whole yen, half-up', async () => {
    const customers = [{ ...acme, currency: 'JPY', timezone: 'Asia/Tokyo' }];
    const h = await start(ratingConfig({ customers, plans: [{ key: 'pro', charges: [{ ...perUnitTokens, unitPrice: '0.5', flatFee: '100' }] }] }));
    await h.pipe(tokens('acme-prod', '2024-02-10T10:00:00Z', 5)); // 100 + 2.5 → 103
    expect(h.billing().map((d) => [d.currency, d.amount])).toEqual([['JPY', '103']]);
  });

  it('keeps one detail per charge when two charges price the same meter (test/fixtures/tally.yaml: requests and bundles)', async () => {
    const charges = [
      { key: 'requests', meter: 'api_requests', model: 'volume' as const, tiers: [{ upTo: 2, unitPrice: '1' }, { unitPrice: '0.5', flatFee: '1' }] },
      { key: 'bundles', meter: 'api_requests', model: 'package' as const, packageSize: 2, packagePrice: '3', freeUnits: 0 },
    ];
    const h = await start(ratingConfig({ plans: [{ key: 'pro', charges }] }));
    for (const [minute, route] of [[0, '/a'], [1, '/b'], [1, '/a']] as const) await h.pipe(usage('api.request', 'acme-prod', `2024-02-10T10:0${minute}:00Z`, { route }));
    const last = new Map(h.billingRecords().map((r) => [r.key, r.value as BillingDetailRecord]));
    expect([...last.entries()].map(([key, d]) => `${key} q=${d.quantity} a=${d.amount} r${d.revision}`)).toEqual([
      'acme|requests|2024-02-01T00:00:00.000-08:00 q=3 a=2.5 r3', // volume: 3 units in tier 2 → 3 × 0.5 + 1
      'acme|bundles|2024-02-01T00:00:00.000-08:00 q=3 a=6 r3', // ceil(3 / 2) × 3
    ]);
  });

  it('bills only meters the period’s plan charges, and counts the rest', async () => {
    const plans = [
      { key: 'pro', charges: [perUnitTokens] },
      { key: 'basic', charges: [{ key: 'requests', meter: 'api_requests', model: 'per_unit' as const, unitPrice: '1' }] },
    ];
    const h = await start(ratingConfig({ plans }));
    await h.pipe(usage('api.request', 'acme-prod', '2024-02-10T10:00:00Z', { route: '/a' }));
    expect(h.billing()).toEqual([]);
    expect(h.deadLetters()).toEqual([]);
    expect(h.counters.usageNotCharged).toBe(1);
  });

  it('emits no detail for a period without usage, even for a charge with a flat fee', async () => {
    const h = await start(undefined, { wallClockMs0: Date.parse('2024-02-15T00:00:00Z') });
    await h.pipe(tokens('acme-prod', '2024-02-10T10:00:00Z', 1));
    await h.driver.advanceWallClockTime(90 * 24 * 3_600_000); // past March and April
    expect(h.billing().map(brief)).toEqual([
      'tokens 2024-02-01T00:00:00.000-08:00 q=1 a=5 provisional r1',
      'tokens 2024-02-01T00:00:00.000-08:00 q=1 a=5 final r2',
    ]);
  });
});
