import { afterEach, describe, expect, it } from 'vitest';
import type { BillingDetailRecord } from '../../schemas/billing-detail.js';
import type { ChargeConfig, CustomerConfig, PlanConfig } from '../../schemas/config-types.js';
import type { InvoiceRecord } from '../../schemas/invoice.js';
import { acme, closeTracked, ratingConfig, startTracked, usage } from './rating-harness.js';

afterEach(closeTracked);
const start = startTracked;

const brief = (d: BillingDetailRecord): string => `${d.plan} ${d.periodStart}..${d.periodEnd} q=${d.quantity} a=${d.amount} ${d.status} r${d.revision}`;
const invoiceBrief = (i: InvoiceRecord): string => `${i.customerId} ${i.periodStart} total=${i.total} ${i.status} r${i.revision} lines=${i.lines.map((l) => `${l.plan}:${l.amount}`).join(',')}`;
const tokens = (subject: string, time: string, value: number) => usage('llm.tokens', subject, time, { tokens: value });

/** A UTC customer, anchor day 1, with subscriptions instead of a plan. */
function subscriber(subscriptions: CustomerConfig['subscriptions'], extra: Partial<CustomerConfig> = {}): CustomerConfig {
  const { plan: _plan, ...base } = acme;
  return { ...base, id: 'sub', subjects: ['sub-1'], timezone: 'UTC', subscriptions, ...extra };
}

const perUnit = (flatFee: string, unitPrice: string): ChargeConfig => ({ key: 'tokens', meter: 'tokens', model: 'per_unit', flatFee, unitPrice });
const twoPlans: PlanConfig[] = [
  { key: 'basic', charges: [perUnit('31', '0.01')] },
  { key: 'pro', charges: [perUnit('31', '0.001')] },
];

describe('subscriptions split billing periods into segments', () => {
  it('rates a plan change on day 11 of a 31-day month as two segments: the flat fee 31 becomes 10.00 and 21.00', async () => {
    const customer = subscriber([{ plan: 'basic', from: '2023-12-01T00:00:00Z' }, { plan: 'pro', from: '2024-01-11T00:00:00Z' }]);
    const h = await start(ratingConfig({ customers: [customer], plans: twoPlans }));
    await h.pipe(tokens('sub-1', '2024-01-05T10:00:00Z', 100), tokens('sub-1', '2024-01-20T10:00:00Z', 1000));
    const details = h.billing();
    expect(details.map(brief)).toEqual([
      'basic 2024-01-01T00:00:00.000Z..2024-01-11T00:00:00.000Z q=100 a=11 provisional r1',
      'pro 2024-01-11T00:00:00.000Z..2024-02-01T00:00:00.000Z q=1000 a=22 provisional r1',
    ]);
    expect(details.map((d) => [d.billingPeriodStart, d.billingPeriodEnd])).toEqual([
      ['2024-01-01T00:00:00.000Z', '2024-02-01T00:00:00.000Z'],
      ['2024-01-01T00:00:00.000Z', '2024-02-01T00:00:00.000Z'],
    ]);
    expect(details.map((d) => d.lines[0]?.amount)).toEqual(['11', '22']); // 10.00 + 1.00 and 21.00 + 1.00
    const records = h.invoiceRecords(); // one per commit: the driver commits after each event
    expect(records.map((r) => [r.key, r.value?.revision, r.value?.total])).toEqual([
      ['sub|2024-01-01T00:00:00.000Z', 1, '11'],
      ['sub|2024-01-01T00:00:00.000Z', 2, '33'],
    ]);
    expect(records[1]?.value).toMatchObject({
      customerId: 'sub',
      periodStart: '2024-01-01T00:00:00.000Z',
      periodEnd: '2024-02-01T00:00:00.000Z',
      timezone: 'UTC',
      currency: 'USD',
      total: '33',
      status: 'draft',
      revision: 2,
      lines: [
        { charge: 'tokens', plan: 'basic', periodStart: '2024-01-01T00:00:00.000Z', periodEnd: '2024-01-11T00:00:00.000Z', quantity: '100', amount: '11', status: 'provisional' },
        { charge: 'tokens', plan: 'pro', periodStart: '2024-01-11T00:00:00.000Z', periodEnd: '2024-02-01T00:00:00.000Z', quantity: '1000', amount: '22', status: 'provisional' },
      ],
    });
    expect(records[1]?.value?.invoiceId).toMatch(/^[0-9a-f]{32}$/);
    expect(records[1]?.value?.invoiceId).toBe(records[0]?.value?.invoiceId);
  });

  it('keeps each segment\'s line in its place on the invoice as usage arrives out of order', async () => {
    const customer = subscriber([{ plan: 'basic', from: '2023-12-01T00:00:00Z' }, { plan: 'pro', from: '2024-01-11T00:00:00Z' }]);
    const h = await start(ratingConfig({ customers: [customer], plans: twoPlans }));
    // The later segment first, then the earlier one (a new line goes before it), then the earlier one again (updated in
    // place, still first); all within the hour of allowed lateness around the change at midnight.
    await h.pipe(tokens('sub-1', '2024-01-11T00:10:00Z', 1000), tokens('sub-1', '2024-01-10T23:50:00Z', 100), tokens('sub-1', '2024-01-10T23:55:00Z', 200));
    expect(h.invoices().map(invoiceBrief)).toEqual([
      'sub 2024-01-01T00:00:00.000Z total=22 draft r1 lines=pro:22',
      'sub 2024-01-01T00:00:00.000Z total=33 draft r2 lines=basic:11,pro:22',
      'sub 2024-01-01T00:00:00.000Z total=35 draft r3 lines=basic:13,pro:22',
    ]);
  });

  it('prorates exactly and rounds each line once, half up', async () => {
    // 1 of 31 days of 1.00 is 0.032258…: the line rounds to 0.03, never a sum of rounded parts.
    const customer = subscriber([{ plan: 'basic', from: '2023-12-01T00:00:00Z' }, { plan: 'pro', from: '2024-01-31T00:00:00Z' }]);
    const h = await start(ratingConfig({ customers: [customer], plans: [{ key: 'basic', charges: [perUnit('1', '0')] }, { key: 'pro', charges: [perUnit('1', '0.0001')] }] }));
    await h.pipe(tokens('sub-1', '2024-01-31T10:00:00Z', 25)); // 1/31 + 0.0025 = 0.034758… → 0.03
    expect(h.billing().map(brief)).toEqual(['pro 2024-01-31T00:00:00.000Z..2024-02-01T00:00:00.000Z q=25 a=0.03 provisional r1']);
  });

  it('restarts tiers in the second segment', async () => {
    const graduated: ChargeConfig = { key: 'tokens', meter: 'tokens', model: 'graduated', tiers: [{ upTo: 10, unitPrice: '1' }, { unitPrice: '0.5' }] };
    const plans: PlanConfig[] = [
      { key: 'basic', charges: [graduated] },
      { key: 'pro', charges: [graduated] },
    ];
    const h = await start(ratingConfig({ customers: [subscriber([{ plan: 'basic', from: '2023-12-01T00:00:00Z' }, { plan: 'pro', from: '2024-01-11T00:00:00Z' }])], plans }));
    await h.pipe(tokens('sub-1', '2024-01-05T10:00:00Z', 8), tokens('sub-1', '2024-01-12T10:00:00Z', 8));
    // One segment of 16 units would be 10 + 3; each segment's 8 units are all in the first tier.
    expect(h.billing().map(brief)).toEqual([
      'basic 2024-01-01T00:00:00.000Z..2024-01-11T00:00:00.000Z q=8 a=8 provisional r1',
      'pro 2024-01-11T00:00:00.000Z..2024-02-01T00:00:00.000Z q=8 a=8 provisional r1',
    ]);
  });

  it('splits at a DST boundary by the instants: 218 and 525 of the 743 hours of March in Los Angeles', async () => {
    // March 2024 in Los Angeles: 2024-03-01T00:00-08:00 to 2024-04-01T00:00-07:00, 743 hours (the 10th has 23).
    const customer = subscriber([{ plan: 'basic', from: '2024-01-01T00:00:00Z' }, { plan: 'pro', from: '2024-03-10T03:00:00-07:00' }], { timezone: 'America/Los_Angeles' });
    const plans: PlanConfig[] = [
      { key: 'basic', charges: [perUnit('743', '0')] },
      { key: 'pro', charges: [perUnit('743', '0')] },
    ];
    const h = await start(ratingConfig({ customers: [customer], plans }));
    await h.pipe(tokens('sub-1', '2024-03-10T09:59:00Z', 1), tokens('sub-1', '2024-03-10T10:00:00Z', 1));
    expect(h.billing().map(brief)).toEqual([
      'basic 2024-03-01T00:00:00.000-08:00..2024-03-10T03:00:00.000-07:00 q=1 a=218 provisional r1',
      'pro 2024-03-10T03:00:00.000-07:00..2024-04-01T00:00:00.000-07:00 q=1 a=525 provisional r1',
    ]);
    expect(h.invoices().map(invoiceBrief)).toEqual([
      'sub 2024-03-01T00:00:00.000-08:00 total=218 draft r1 lines=basic:218',
      'sub 2024-03-01T00:00:00.000-08:00 total=743 draft r2 lines=basic:218,pro:525',
    ]);
  });

  it('dead-letters usage before a subscription that starts in the future, and bills from its start', async () => {
    const h = await start(ratingConfig({ customers: [subscriber([{ plan: 'basic', from: '2024-01-15T12:00:00Z' }])], plans: twoPlans }));
    await h.pipe(tokens('sub-1', '2024-01-10T10:00:00Z', 5), tokens('sub-1', '2024-01-15T11:59:00Z', 5), tokens('sub-1', '2024-01-15T12:00:00Z', 7));
    const dead = h.deadLetters();
    expect(dead.map((d) => [d.reason, d.timestamp])).toEqual([
      ['unrated', '2024-01-10T10:00:59.999Z'],
      ['unrated', '2024-01-15T11:59:59.999Z'],
    ]);
    expect(dead[0]?.message).toContain('customer sub has no subscription at 2024-01-10T10:00:00.000Z');
    // 16.5 of 31 days of 31 = 16.5, plus 7 × 0.01.
    expect(h.billing().map(brief)).toEqual(['basic 2024-01-15T12:00:00.000Z..2024-02-01T00:00:00.000Z q=7 a=16.57 provisional r1']);
  });

  it('bills nothing for a customer cancelled before any usage: no detail, no invoice', async () => {
    const customer = subscriber([{ plan: 'basic', from: '2024-01-10T00:00:00Z' }], { cancelledAt: '2024-01-12T00:00:00Z' });
    const h = await start(ratingConfig({ customers: [customer], plans: twoPlans }), { wallClockMs0: Date.parse('2024-01-12T00:00:00Z') });
    await h.pipe(tokens('sub-1', '2024-01-12T00:00:00Z', 5));
    await h.driver.advanceWallClockTime(40 * 24 * 3_600_000);
    expect(h.billing()).toEqual([]);
    expect(h.invoices()).toEqual([]);
    expect(h.deadLetters().map((d) => d.reason)).toEqual(['unrated']);
  });

  it('bills the Kill Bill case in final details for a Los Angeles and a UTC customer, each in its own offset', async () => {
    const lifetime = { subscriptions: [{ plan: 'basic', from: '2024-02-21T06:00:00Z' }], cancelledAt: '2024-02-21T06:10:00Z' };
    const pst = subscriber(lifetime.subscriptions, { id: 'pst', subjects: ['pst-1'], timezone: 'America/Los_Angeles', billingAnchor: '2024-02-20', cancelledAt: lifetime.cancelledAt });
    const utc = subscriber(lifetime.subscriptions, { id: 'utc', subjects: ['utc-1'], timezone: 'UTC', billingAnchor: '2024-02-20', cancelledAt: lifetime.cancelledAt });
    const plans: PlanConfig[] = [{ key: 'basic', charges: [perUnit('0', '0.5')] }];
    const h = await start(ratingConfig({ customers: [pst, utc], plans }), { wallClockMs0: Date.parse('2024-02-21T06:20:00Z') });
    await h.pipe(tokens('pst-1', '2024-02-21T06:05:00Z', 10), tokens('utc-1', '2024-02-21T06:05:00Z', 10));
    expect(h.billing().map(brief)).toEqual([
      'basic 2024-02-20T22:00:00.000-08:00..2024-02-20T22:10:00.000-08:00 q=10 a=5 provisional r1',
      'basic 2024-02-21T06:00:00.000Z..2024-02-21T06:10:00.000Z q=10 a=5 provisional r1',
    ]);
    // Final at cancelledAt + allowedLateness (1 h), not at the end of the period.
    await h.driver.advanceWallClockTime(Date.parse('2024-02-21T07:09:59.999Z') - h.driver.wallClockMs);
    expect(h.billing()).toEqual([]);
    await h.driver.advanceWallClockTime(Date.parse('2024-02-21T07:10:00Z') - h.driver.wallClockMs);
    const finals = h.billing();
    expect(finals.map(brief).sort()).toEqual([
      'basic 2024-02-20T22:00:00.000-08:00..2024-02-20T22:10:00.000-08:00 q=10 a=5 final r2',
      'basic 2024-02-21T06:00:00.000Z..2024-02-21T06:10:00.000Z q=10 a=5 final r2',
    ]);
    expect(finals.map((d) => [d.customerId, d.billingPeriodStart]).sort()).toEqual([
      ['pst', '2024-02-20T00:00:00.000-08:00'],
      ['utc', '2024-02-20T00:00:00.000Z'],
    ]);
    expect(h.invoices().map(invoiceBrief).sort()).toEqual([
      'pst 2024-02-20T00:00:00.000-08:00 total=5 draft r1 lines=basic:5',
      'pst 2024-02-20T00:00:00.000-08:00 total=5 final r2 lines=basic:5',
      'utc 2024-02-20T00:00:00.000Z total=5 draft r1 lines=basic:5',
      'utc 2024-02-20T00:00:00.000Z total=5 final r2 lines=basic:5',
    ]);
  });

  it('re-rates a split period on a late event, ignores a duplicate, and revises the invoice', async () => {
    const customer = subscriber([{ plan: 'basic', from: '2023-12-01T00:00:00Z' }, { plan: 'pro', from: '2024-01-11T00:00:00Z' }]);
    const h = await start(ratingConfig({ customers: [customer], plans: twoPlans }));
    const first = tokens('sub-1', '2024-01-10T23:30:00Z', 100);
    await h.pipe(first, tokens('sub-1', '2024-01-11T00:10:00Z', 1000));
    h.billing();
    h.invoices();
    await h.pipe(first); // a duplicate: counted, not billed again
    expect(h.billing()).toEqual([]);
    expect(h.invoices()).toEqual([]);
    await h.pipe(tokens('sub-1', '2024-01-10T23:45:00Z', 100)); // late (within allowedLateness) into the first segment
    expect(h.billing().map(brief)).toEqual(['basic 2024-01-01T00:00:00.000Z..2024-01-11T00:00:00.000Z q=200 a=12 provisional r2']);
    expect(h.invoices().map(invoiceBrief)).toEqual(['sub 2024-01-01T00:00:00.000Z total=34 draft r3 lines=basic:12,pro:22']);
  });

  it('follows a subscription changed on the customers topic while usage flows', async () => {
    const h = await start(ratingConfig({ customers: [subscriber([{ plan: 'basic', from: '2023-12-01T00:00:00Z' }])], plans: twoPlans }));
    await h.pipe(tokens('sub-1', '2024-01-05T10:00:00Z', 100));
    expect(h.billing().map(brief)).toEqual(['basic 2024-01-01T00:00:00.000Z..2024-02-01T00:00:00.000Z q=100 a=32 provisional r1']);
    const { plan: _plan, ...row } = subscriber([{ plan: 'basic', from: '2023-12-01T00:00:00Z' }, { plan: 'pro', from: '2024-01-11T00:00:00Z' }]);
    await h.putCustomer('sub-1', row);
    // The open segment ends at the change at once: its bounds and prorated fee are re-rated with its usage so far.
    expect(h.billing().map(brief)).toEqual(['basic 2024-01-01T00:00:00.000Z..2024-01-11T00:00:00.000Z q=100 a=11 provisional r2']);
    await h.pipe(tokens('sub-1', '2024-01-05T10:01:00Z', 100), tokens('sub-1', '2024-01-20T10:00:00Z', 1000));
    expect(h.billing().map(brief)).toEqual([
      'basic 2024-01-01T00:00:00.000Z..2024-01-11T00:00:00.000Z q=200 a=12 provisional r3',
      'pro 2024-01-11T00:00:00.000Z..2024-02-01T00:00:00.000Z q=1000 a=22 provisional r1',
    ]);
  });
});
