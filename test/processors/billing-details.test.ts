import { describe, expect, it } from 'vitest';
import type { BillingDetailRecord } from '../../schemas/billing-detail.js';
import { sameDetailContent } from '../../processors/rating/billing-details.js';

const detail: BillingDetailRecord = {
  detailId: 'afe6498f8484f819c15af3c443a19297',
  customerId: 'account-422',
  plan: 'pro',
  charge: 'requests',
  meter: 'api_requests',
  periodStart: '2026-11-15T00:00:00.000+01:00',
  periodEnd: '2026-12-15T00:00:00.000+01:00',
  billingPeriodStart: '2026-11-15T00:00:00.000+01:00',
  billingPeriodEnd: '2026-12-15T00:00:00.000+01:00',
  timezone: 'Europe/Budapest',
  currency: 'USD',
  quantity: '1200',
  amount: '1.4',
  lines: [
    { label: 'tier 1', from: '0', to: '1000', quantity: '1000', unitPrice: '0', amount: '0' },
    { label: 'tier 2', from: '1000', to: '10000', quantity: '200', unitPrice: '0.002', flatFee: '1', amount: '1.4' },
  ],
  status: 'provisional',
  revision: 3,
};

describe('sameDetailContent', () => {
  it('holds a detail re-rated to the same content the same, whatever its revision', () => {
    expect(sameDetailContent(detail, { ...detail, revision: 4, lines: detail.lines.map((line) => ({ ...line })) })).toBe(true);
  });

  it('tells details apart by a top-level field or by any field of any line', () => {
    expect(sameDetailContent(detail, { ...detail, status: 'final' })).toBe(false);
    const [first, second] = detail.lines as [BillingDetailRecord['lines'][number], BillingDetailRecord['lines'][number]];
    expect(sameDetailContent(detail, { ...detail, lines: [first, { ...second, amount: '1.41' }] })).toBe(false);
    expect(sameDetailContent(detail, { ...detail, lines: [first, { ...second, flatFee: undefined }] })).toBe(false);
    expect(sameDetailContent(detail, { ...detail, lines: [first] })).toBe(false);
  });

  it('tells a detail apart when it holds a field this version does not know (written by a later one)', () => {
    expect(sameDetailContent({ ...detail, discountCode: 'SPRING' } as BillingDetailRecord, detail)).toBe(false);
  });

  it('tells a line apart when it holds a field this version does not know (written by a later one)', () => {
    const [first, second] = detail.lines as [BillingDetailRecord['lines'][number], BillingDetailRecord['lines'][number]];
    expect(sameDetailContent(detail, { ...detail, lines: [first, { ...second, discount: '0.1' } as BillingDetailRecord['lines'][number]] })).toBe(false);
  });
});
