/**
 * `GET /v1/customers/{id}/entitlements[/{key}]`: the customer's entitlements
 * in the current billing period (the one that holds this instance's wall
 * clock) — read from the `entitlement-usage` store of the task the customer
 * is partitioned to, here or on its owner, with the entitlements the
 * customer's latest row on the customers topic declares (`entitlement-terms`,
 * same task), else those of the config.
 */
import {
  billingPeriodAt,
  currentEntitlements,
  entitlementKey,
  entitlementStoreNames,
  entitlementTermsKey,
  ratingEnabled,
  type EntitlementsOfCustomer,
  type EntitlementState,
  type EntitlementTerms,
} from '../../processors/index.js';
import type { EntitlementRecord, TallyConfig } from '../../schemas/index.js';
import { HttpError } from '../api-errors.js';
import { readForCustomer, type CustomerStoreRead } from './customer-store-reads.js';
import type { StoreReadContext } from './store-reads.js';

export interface CustomerEntitlements {
  readonly customerId: string;
  /** One record per entitlement, for the current billing period, sorted by entitlement key. */
  readonly entitlements: readonly EntitlementRecord[];
}

export const customerEntitlementsRead: CustomerStoreRead<EntitlementState, EntitlementState> = {
  storeName: entitlementStoreNames.usage,
  internalPath: (customerId) => `/internal/v1/customers/${encodeURIComponent(customerId)}/entitlements`,
  internalField: 'states',
  pick: (value, customerId) => (value.record.customerId === customerId ? value : undefined),
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
  if (!ratingEnabled(config)) throw new HttpError(404, 'rating-disabled', 'no plans are configured, so no usage reaches entitlements: declare plans and customers in tally.yaml');
  const [terms] = await readForCustomer(context, customerId, customerEntitlementTermsRead);
  const declared = terms ?? config.customers.find((c) => c.id === customerId);
  // What the customer declares names the entries of the current period: read them by key, no scan.
  const keys = currentEntitlementKeys(customerId, declared, nowMs);
  const states = await readForCustomer(context, customerId, keys === undefined ? customerEntitlementsRead : { ...customerEntitlementsRead, keys: () => keys });
  if (states.length === 0 && declared === undefined) {
    throw new HttpError(
      404,
      'customer-unknown',
      `customer ${JSON.stringify(customerId)} is unknown: it is not in the config, not on the customers topic, and no usage has been counted against an entitlement of it; add it to tally.yaml or write it to the customers topic`,
    );
  }
  return { customerId, entitlements: currentEntitlements(customerId, states, declared, nowMs) };
}

/** The `entitlement-usage` keys of the declared entitlements in the period holding `nowMs`; undefined when none are declared. */
function currentEntitlementKeys(customerId: string, declared: EntitlementsOfCustomer | undefined, nowMs: number): string[] | undefined {
  const entitlements = declared?.entitlements ?? [];
  if (declared === undefined || entitlements.length === 0) return undefined;
  const period = billingPeriodAt(nowMs, declared.timezone, declared.billingAnchor);
  return entitlements.map((entitlement) => entitlementKey(customerId, entitlement.key, period.start));
}

/** One entitlement of the answer above; 404 when the customer has no entitlement `key`. */
export async function answerCustomerEntitlement(context: StoreReadContext, config: TallyConfig, customerId: string, key: string, nowMs: number): Promise<EntitlementRecord> {
  const { entitlements } = await answerCustomerEntitlements(context, config, customerId, nowMs);
  const found = entitlements.find((e) => e.entitlement === key);
  if (found !== undefined) return found;
  const known = entitlements.length === 0 ? 'it has none' : `its entitlements are ${entitlements.map((e) => e.entitlement).join(', ')}`;
  throw new HttpError(404, 'entitlement-unknown', `customer ${JSON.stringify(customerId)} has no entitlement ${JSON.stringify(key)}; ${known}`);
}
