/**
 * What `GET /v1/customers/{id}/entitlements` answers: each entitlement's
 * record for the billing period that holds `nowMs`. A period with no usage
 * yet has no stored record; it is answered with usage "0" and revision 0
 * (nothing was emitted for it), with the limit the customer's terms declare
 * now (its latest row on the customers topic, else the config). A customer
 * that declares entitlements is answered those only; one that declares none
 * (known only from stored usage) is answered every stored entitlement, a
 * period without usage with the limit of its latest stored period.
 */
import type { EntitlementConfig } from '../../schemas/config-types.js';
import type { EntitlementRecord } from '../../schemas/entitlement.js';
import { billingPeriodAt } from '../rating/index.js';
import type { EntitlementState } from './entitlement-stores.js';
import { entitlementContent } from './entitlement-usage.js';

function unused(customerId: string, entitlement: EntitlementConfig, terms: { timezone: string; billingAnchor: string }, nowMs: number): EntitlementRecord {
  const period = billingPeriodAt(nowMs, terms.timezone, terms.billingAnchor);
  return { ...entitlementContent({ customerId, entitlement, period, usage: '0' }), revision: 0 };
}

const holds = (record: EntitlementRecord, nowMs: number): boolean => Date.parse(record.periodStart) <= nowMs && nowMs < Date.parse(record.periodEnd);

/** What a customer says about its entitlements (a config customer, or its row in `entitlement-terms`). */
export interface EntitlementsOfCustomer {
  readonly entitlements?: readonly EntitlementConfig[] | undefined;
  readonly timezone: string;
  readonly billingAnchor: string;
}

/** What a query reads of a stored state: its record, and the zone and anchor it was counted in. */
export type EntitlementUsageView = Pick<EntitlementState, 'record' | 'timezone' | 'billingAnchor'>;

/** The view of a state: a query never needs its usage (for UNIQUE_COUNT, every distinct value) nor its alerts. */
export function entitlementUsageView(state: EntitlementState): EntitlementUsageView {
  return { record: state.record, timezone: state.timezone, billingAnchor: state.billingAnchor };
}

/** The current record of every entitlement of `customerId`, sorted by key. `stored` are its states, any order. */
export function currentEntitlements(customerId: string, stored: readonly EntitlementUsageView[], configured: EntitlementsOfCustomer | undefined, nowMs: number): EntitlementRecord[] {
  const declaredKeys = new Set((configured?.entitlements ?? []).map((entitlement) => entitlement.key));
  const byKey = new Map<string, EntitlementUsageView[]>();
  for (const state of stored) {
    // A customer that declares entitlements has those: one it dropped is no longer answered.
    if (declaredKeys.size > 0 && !declaredKeys.has(state.record.entitlement)) continue;
    byKey.set(state.record.entitlement, [...(byKey.get(state.record.entitlement) ?? []), state]);
  }
  const current = new Map<string, EntitlementRecord>();
  for (const [key, states] of byKey) {
    const now = states.find((state) => holds(state.record, nowMs));
    if (now !== undefined) {
      current.set(key, now.record);
      continue;
    }
    const declared = configured?.entitlements?.find((entitlement) => entitlement.key === key);
    if (declared !== undefined && configured !== undefined) {
      current.set(key, unused(customerId, declared, configured, nowMs));
      continue;
    }
    const latest = states.reduce((a, b) => (Date.parse(b.record.periodStart) > Date.parse(a.record.periodStart) ? b : a));
    current.set(key, unused(customerId, { key, meter: latest.record.meter, limit: latest.record.limit, alerts: [] }, latest, nowMs));
  }
  for (const entitlement of configured?.entitlements ?? []) {
    if (!current.has(entitlement.key) && configured !== undefined) current.set(entitlement.key, unused(customerId, entitlement, configured, nowMs));
  }
  return [...current.values()].sort((a, b) => (a.entitlement < b.entitlement ? -1 : a.entitlement > b.entitlement ? 1 : 0));
}
