import { describe, expect, it } from 'vitest';
import { currentEntitlements, type EntitlementState } from '../../processors/index.js';
import type { CustomerConfig } from '../../schemas/config-types.js';

const customer: CustomerConfig = {
  id: 'acme',
  subjects: ['acme-prod'],
  timezone: 'America/Los_Angeles',
  currency: 'USD',
  billingAnchor: '2024-01-01',
  plan: 'pro',
  entitlements: [
    { key: 'tokens', meter: 'tokens', limit: '100', alerts: [100] },
    { key: 'seats', meter: 'seats', limit: '10', alerts: [] },
  ],
};

/** A stored state of `key` for the period starting on `month` (2024-MM-01 in Los Angeles, PST). */
function stored(key: string, month: string, usage: string, limit = '100'): EntitlementState {
  const next = String(Number(month) + 1).padStart(2, '0');
  const record = {
    customerId: 'acme', entitlement: key, meter: 'tokens', periodStart: `2024-${month}-01T00:00:00.000-08:00`, periodEnd: `2024-${next}-01T00:00:00.000-08:00`,
    limit, usage, remaining: '0', overage: '0', hasAccess: false, revision: 3,
  };
  return { usage: { total: usage }, record, alerted: [], timestampMs: 0, timezone: 'America/Los_Angeles', billingAnchor: '2024-01-01' };
}

const midFebruary = Date.parse('2024-02-15T12:00:00Z');

describe('the current entitlements of a customer', () => {
  it('answer the stored record of the period that holds now', () => {
    const february = stored('tokens', '02', '120');
    expect(currentEntitlements('acme', [stored('tokens', '01', '50'), february], customer, midFebruary)).toEqual([
      { customerId: 'acme', entitlement: 'seats', meter: 'seats', periodStart: '2024-02-01T00:00:00.000-08:00', periodEnd: '2024-03-01T00:00:00.000-08:00', limit: '10', usage: '0', remaining: '10', overage: '0', hasAccess: true, revision: 0 },
      february.record,
    ]);
  });

  it("start a period with no usage at zero, with the latest stored period's limit, zone and anchor", () => {
    const [tokens] = currentEntitlements('acme', [stored('tokens', '01', '150', '200')], undefined, midFebruary);
    expect(tokens).toEqual({
      customerId: 'acme', entitlement: 'tokens', meter: 'tokens', periodStart: '2024-02-01T00:00:00.000-08:00', periodEnd: '2024-03-01T00:00:00.000-08:00',
      limit: '200', usage: '0', remaining: '200', overage: '0', hasAccess: true, revision: 0,
    });
  });

  it('start a period with no usage at zero with the limit the customer declares now, when it still declares the entitlement', () => {
    const terms = { entitlements: [{ key: 'tokens', meter: 'tokens', limit: '50', alerts: [100] }], timezone: 'UTC', billingAnchor: '2024-01-10' };
    expect(currentEntitlements('acme', [stored('tokens', '01', '150', '200')], terms, midFebruary)).toEqual([
      { customerId: 'acme', entitlement: 'tokens', meter: 'tokens', periodStart: '2024-02-10T00:00:00.000Z', periodEnd: '2024-03-10T00:00:00.000Z', limit: '50', usage: '0', remaining: '50', overage: '0', hasAccess: true, revision: 0 },
    ]);
  });

  it('answer only the entitlements a customer declares, when it declares any', () => {
    const terms = { entitlements: [{ key: 'seats', meter: 'seats', limit: '10', alerts: [] }], timezone: 'America/Los_Angeles', billingAnchor: '2024-01-01' };
    expect(currentEntitlements('acme', [stored('tokens', '02', '7')], terms, midFebruary).map((e) => e.entitlement)).toEqual(['seats']);
    expect(currentEntitlements('acme', [stored('tokens', '02', '7')], undefined, midFebruary).map((e) => e.entitlement)).toEqual(['tokens']);
  });

  it('take the period in the customer zone: 2024-03-01T07:00Z is still February in Los Angeles', () => {
    const [tokens] = currentEntitlements('acme', [stored('tokens', '02', '7')], undefined, Date.parse('2024-03-01T07:00:00Z'));
    expect(tokens?.usage).toBe('7');
    const [next] = currentEntitlements('acme', [stored('tokens', '02', '7')], undefined, Date.parse('2024-03-01T08:00:00Z'));
    expect([next?.periodStart, next?.usage]).toEqual(['2024-03-01T00:00:00.000-08:00', '0']);
  });

  it('are empty for a customer with neither stored usage nor configured entitlements', () => {
    expect(currentEntitlements('ghost', [], undefined, midFebruary)).toEqual([]);
  });
});
