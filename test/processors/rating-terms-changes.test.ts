import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BillingDetailRecord } from '../../schemas/billing-detail.js';
import type { CustomerRecord } from '../../schemas/customer-record.js';
import type { ChargeConfig, CustomerConfig, PlanConfig } from '../../schemas/config-types.js';
import type { InvoiceRecord } from '../../schemas/invoice.js';
import { changeCustomerPlan } from '../../processors/rating/index.js';
import { acme, closeTracked, ratingConfig, RatingHarness, startTracked, usage } from './rating-harness.js';

afterEach(closeTracked);

const brief = (d: BillingDetailRecord): string => `${d.plan} ${d.periodStart}..${d.periodEnd} q=${d.quantity} a=${d.amount} ${d.status} r${d.revision}`;
const invoiceBrief = (i: InvoiceRecord): string => `${i.periodStart} total=${i.total} ${i.status} r${i.revision}`;
const tokens = (subject: string, time: string, value: number) => usage('llm.tokens', subject, time, { tokens: value });
const perUnit = (flatFee: string, unitPrice: string): ChargeConfig => ({ key: 'tokens', meter: 'tokens', model: 'per_unit', flatFee, unitPrice });
const plans: PlanConfig[] = [
  { key: 'basic', charges: [perUnit('31', '0.01')] },
  { key: 'pro', charges: [perUnit('31', '0.001')] },
];
const basicSince = [{ plan: 'basic', from: '2023-12-01T00:00:00Z' }];

/** A UTC customer, anchor day 1, with subscriptions (31-day January: the flat fee is 1 a day). */
function subscriber(extra: Partial<CustomerConfig> = {}): CustomerConfig {
  const { plan: _plan, ...base } = acme;
  return { ...base, id: 'sub', subjects: ['sub-1'], timezone: 'UTC', subscriptions: basicSince, ...extra };
}

/** The customers-topic row of `customer` (its config shape is the row's). */
const row = (customer: CustomerConfig): CustomerRecord => customer as CustomerRecord;
const at = (iso: string): number => Date.parse(iso);

describe('a customer changed on the customers topic re-rates its open details at once', () => {
  it('cancelled after its last usage: the segment ends at cancelledAt, the fee is prorated, and the detail turns final at cancelledAt + allowedLateness', async () => {
    const h = await startTracked(ratingConfig({ customers: [subscriber()], plans }), { wallClockMs0: at('2024-01-10T12:00:00Z') });
    await h.pipe(tokens('sub-1', '2024-01-05T10:00:00Z', 100));
    expect(h.billing().map(brief)).toEqual(['basic 2024-01-01T00:00:00.000Z..2024-02-01T00:00:00.000Z q=100 a=32 provisional r1']);
    h.invoices();

    await h.putCustomer('sub-1', row(subscriber({ cancelledAt: '2024-01-10T12:00:00Z' })));
    // 9.5 of 31 days of 31, plus 100 × 0.01; no usage after the change was needed.
    expect(h.billing().map(brief)).toEqual(['basic 2024-01-01T00:00:00.000Z..2024-01-10T12:00:00.000Z q=100 a=10.5 provisional r2']);
    expect(h.invoices().map(invoiceBrief)).toEqual(['2024-01-01T00:00:00.000Z total=10.5 draft r2']);
    expect(h.counters.detailsRevised).toBe(1);

    await h.driver.advanceWallClockTime(at('2024-01-10T12:59:59.999Z') - h.driver.wallClockMs);
    expect(h.billing()).toEqual([]);
    await h.driver.advanceWallClockTime(1);
    expect(h.billing().map(brief)).toEqual(['basic 2024-01-01T00:00:00.000Z..2024-01-10T12:00:00.000Z q=100 a=10.5 final r3']);
    expect(h.invoices().map(invoiceBrief)).toEqual(['2024-01-01T00:00:00.000Z total=10.5 final r3']);
    // Nothing is left open: the end of the period finalizes nothing more.
    await h.driver.advanceWallClockTime(at('2024-02-02T00:00:00Z') - h.driver.wallClockMs);
    expect(h.billing()).toEqual([]);
  });

  it('cancelled after the close time has passed: the revised detail is final at once, in one revision', async () => {
    const h = await startTracked(ratingConfig({ customers: [subscriber()], plans }), { wallClockMs0: at('2024-01-10T12:00:00Z') });
    await h.pipe(tokens('sub-1', '2024-01-05T10:00:00Z', 100));
    await h.driver.advanceWallClockTime(at('2024-01-20T00:00:00Z') - h.driver.wallClockMs);
    h.billing();
    await h.putCustomer('sub-1', row(subscriber({ cancelledAt: '2024-01-10T12:00:00Z' })));
    expect(h.billing().map(brief)).toEqual(['basic 2024-01-01T00:00:00.000Z..2024-01-10T12:00:00.000Z q=100 a=10.5 final r2']);
    expect(h.invoices().map(invoiceBrief)).toEqual(['2024-01-01T00:00:00.000Z total=32 draft r1', '2024-01-01T00:00:00.000Z total=10.5 final r2']);
  });

  it('a cancellation withdrawn: the segment runs to the end of the period again and closes only then', async () => {
    const h = await startTracked(ratingConfig({ customers: [subscriber({ cancelledAt: '2024-01-20T00:00:00Z' })], plans }), { wallClockMs0: at('2024-01-10T00:00:00Z') });
    await h.pipe(tokens('sub-1', '2024-01-05T10:00:00Z', 100));
    expect(h.billing().map(brief)).toEqual(['basic 2024-01-01T00:00:00.000Z..2024-01-20T00:00:00.000Z q=100 a=20 provisional r1']);
    await h.putCustomer('sub-1', row(subscriber()));
    expect(h.billing().map(brief)).toEqual(['basic 2024-01-01T00:00:00.000Z..2024-02-01T00:00:00.000Z q=100 a=32 provisional r2']);
    // The close time it had (2024-01-20T01:00Z) passes: nothing turns final.
    await h.driver.advanceWallClockTime(at('2024-01-25T00:00:00Z') - h.driver.wallClockMs);
    expect(h.billing()).toEqual([]);
    await h.driver.advanceWallClockTime(at('2024-02-01T01:00:00Z') - h.driver.wallClockMs);
    expect(h.billing().map(brief)).toEqual(['basic 2024-01-01T00:00:00.000Z..2024-02-01T00:00:00.000Z q=100 a=32 final r3']);
  });

  it('the same change under every subject of the customer re-rates once', async () => {
    const h = await startTracked(ratingConfig({ customers: [subscriber({ subjects: ['sub-1', 'sub-2'] })], plans }), { wallClockMs0: at('2024-01-10T12:00:00Z') });
    await h.pipe(tokens('sub-1', '2024-01-05T10:00:00Z', 60), tokens('sub-2', '2024-01-05T10:00:00Z', 40));
    h.billing();
    const before = h.counters.customerTermsChanges;
    const cancelled = row(subscriber({ subjects: ['sub-1', 'sub-2'], cancelledAt: '2024-01-10T12:00:00Z' }));
    await h.putCustomer('sub-1', cancelled);
    await h.putCustomer('sub-2', cancelled);
    await h.putCustomer('sub-2', cancelled); // written again, unchanged: not forwarded
    expect(h.counters.customerTermsChanges - before).toBe(2);
    expect(h.counters.detailsRevised).toBe(1);
    // r1 and r2 were the two usages.
    expect(h.billing().map(brief)).toEqual(['basic 2024-01-01T00:00:00.000Z..2024-01-10T12:00:00.000Z q=100 a=10.5 provisional r3']);
  });

  it('a customer on a plan keeps the terms its period started with: a plan change re-rates nothing', async () => {
    const h = await startTracked(ratingConfig({ customers: [{ ...acme, plan: 'basic' }], plans }), { wallClockMs0: at('2024-02-10T00:00:00Z') });
    await h.pipe(tokens('acme-prod', '2024-02-05T10:00:00Z', 100));
    expect(h.billing().map(brief)).toEqual(['basic 2024-02-01T00:00:00.000-08:00..2024-03-01T00:00:00.000-08:00 q=100 a=32 provisional r1']);
    const moved = changeCustomerPlan(row({ ...acme, plan: 'basic' }), 'pro', at('2024-02-10T00:00:00Z'));
    for (const subject of acme.subjects) await h.putCustomer(subject, moved);
    expect(h.counters.customerTermsChanges).toBeGreaterThan(0);
    expect(h.counters.detailsRevised).toBe(0);
    expect(h.billing()).toEqual([]);
  });

  it('after a restart, finds the open details it restored', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'tally-terms-restart-'));
    try {
      const options = { stateDir, wallClockMs0: at('2024-01-10T12:00:00Z') };
      const config = ratingConfig({ customers: [subscriber()], plans });
      const first = await RatingHarness.start(config, options);
      await first.pipe(tokens('sub-1', '2024-01-05T10:00:00Z', 100));
      expect(first.billing().map(brief)).toEqual(['basic 2024-01-01T00:00:00.000Z..2024-02-01T00:00:00.000Z q=100 a=32 provisional r1']);
      await first.close();

      const second = await startTracked(config, options);
      await second.putCustomer('sub-1', row(subscriber({ cancelledAt: '2024-01-10T12:00:00Z' })));
      expect(second.billing().map(brief)).toEqual(['basic 2024-01-01T00:00:00.000Z..2024-01-10T12:00:00.000Z q=100 a=10.5 provisional r2']);
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('never moves stream time: a change written long after the usage closes nothing by itself', async () => {
    const h = await startTracked(ratingConfig({ customers: [subscriber()], plans }), { wallClockMs0: at('2024-01-10T12:00:00Z') });
    await h.pipe(tokens('sub-1', '2024-01-05T10:00:00Z', 100));
    h.billing();
    // Written "in 2030" (its record timestamp): were it stream time, January would close.
    await h.driver.pipeRaw('tally-customers', Buffer.from('sub-1'), Buffer.from(JSON.stringify(row(subscriber({ cancelledAt: '2024-01-20T00:00:00Z' })))), { timestampMs: at('2030-01-01T00:00:00Z') });
    expect(h.billing().map(brief)).toEqual(['basic 2024-01-01T00:00:00.000Z..2024-01-20T00:00:00.000Z q=100 a=20 provisional r2']);
  });
});
