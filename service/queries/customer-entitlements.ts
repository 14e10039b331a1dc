/**
 * `GET /v1/customers/{id}/entitlements[/{key}]`: the customer's entitlements
 * in the current billing period (the one that holds this instance's wall
 * clock) — read from the `entitlement-usage` store of the task the customer
 * is partitioned to, here or on its owner, with the entitlements the
 * customer's latest row on the customers topic declares (`entitlement-terms`,
 * same task), else those of the config.
 */
import { entitlementStoreNames, entitlementTermsKey, entitlementUsageView, ratingEnabled, type EntitlementState, type EntitlementTerms, type EntitlementUsageView } from '../../processors/index.js';
import type { EntitlementRecord, TallyConfig } from '../../schemas/index.js';
import { readForCustomer, type CustomerStoreRead } from './customer-store-reads.js';
import { currentEntitlementKeys, entitlementsAnswer, oneEntitlement, ratingDisabled, type CustomerEntitlements } from './entitlement-answers.js';
import type { StoreReadContext } from './store-reads.js';

export type { CustomerEntitlements } from './entitlement-answers.js';

/** The customer's states in `entitlement-usage`, as much of each as an answer reads (also what the internal route sends). */
export const customerEntitlementsRead: CustomerStoreRead<EntitlementState, EntitlementUsageView> = {
  storeName: entitlementStoreNames.usage,
  internalPath: (customerId) => `/internal/v1/customers/${encodeURIComponent(customerId)}/entitlements`,
  internalField: 'states',
  pick: (value, customerId) => (value.record.customerId === customerId ? entitlementUsageView(value) : undefined),
};

/** The customer's row in `entitlement-terms` (written when its row on the customers topic changed). */
export const customerEntitlementTermsRead: CustomerStoreRead<EntitlementTerms, EntitlementTerms> = {
  storeName: entitlementStoreNames.terms,
  internalPath: (customerId) => `/internal/v1/customers/${encodeURIComponent(customerId)}/entitlement-terms`,
  internalField: 'terms',
  pick: (value, customerId) => (value.customerId === customerId ? value : undefined),
  keys: (customerId) => [entitlementTermsKey(customerId)],
};

export async function answerCustomerEntitlements(context: StoreReadContext, config: TallyConfig, customerId: string, nowMs: number): Promise<CustomerEntitlements> {
  if (!ratingEnabled(config)) throw ratingDisabled();
  const [terms] = await readForCustomer(context, customerId, customerEntitlementTermsRead);
  const declared = terms ?? config.customers.find((c) => c.id === customerId);
  // What the customer declares names the entries of the current period: read them by key, no scan.
  const keys = currentEntitlementKeys(customerId, declared, nowMs);
  const states = await readForCustomer(context, customerId, keys === undefined ? customerEntitlementsRead : { ...customerEntitlementsRead, keys: () => keys });
  return entitlementsAnswer(customerId, states, declared, nowMs);
}

/** One entitlement of the answer above; 404 when the customer has no entitlement `key`. */
export async function answerCustomerEntitlement(context: StoreReadContext, config: TallyConfig, customerId: string, key: string, nowMs: number): Promise<EntitlementRecord> {
  return oneEntitlement(await answerCustomerEntitlements(context, config, customerId, nowMs), key);
}
