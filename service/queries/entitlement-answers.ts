/**
 * The answer of `GET /v1/customers/{id}/entitlements[/{key}]` from what the
 * customer's task holds — its row in `entitlement-terms` and its states in
 * `entitlement-usage` — whoever read them: the pipeline's stores
 * (customer-entitlements.ts) or the HTTP front's committed replica
 * (entitlement-replica.ts). Both answer through these functions, so both
 * answer alike.
 */
import { billingPeriodAt, currentEntitlements, entitlementKey, type EntitlementsOfCustomer, type EntitlementUsageView } from '../../processors/index.js';
import type { EntitlementRecord } from '../../schemas/index.js';
import { HttpError } from '../api-errors.js';

export interface CustomerEntitlements {
  readonly customerId: string;
  /** One record per entitlement, for the current billing period, sorted by entitlement key. */
  readonly entitlements: readonly EntitlementRecord[];
}

export function ratingDisabled(): HttpError {
  return new HttpError(404, 'rating-disabled', 'no plans are configured, so no usage reaches entitlements: declare plans and customers in tally.yaml');
}

/** The `entitlement-usage` keys of the declared entitlements in the period holding `nowMs`; undefined when none are declared (read all of the customer's). */
export function currentEntitlementKeys(customerId: string, declared: EntitlementsOfCustomer | undefined, nowMs: number): string[] | undefined {
  const entitlements = declared?.entitlements ?? [];
  if (declared === undefined || entitlements.length === 0) return undefined;
  const period = billingPeriodAt(nowMs, declared.timezone, declared.billingAnchor);
  return entitlements.map((entitlement) => entitlementKey(customerId, entitlement.key, period.start));
}

/** The answer from the customer's stored states (read by `currentEntitlementKeys`) and its declaration; 404 when neither knows it. */
export function entitlementsAnswer(customerId: string, states: readonly EntitlementUsageView[], declared: EntitlementsOfCustomer | undefined, nowMs: number): CustomerEntitlements {
  if (states.length === 0 && declared === undefined) {
    throw new HttpError(
      404,
      'customer-unknown',
      `customer ${JSON.stringify(customerId)} is unknown: it is not in the config, not on the customers topic, and no usage has been counted against an entitlement of it; add it to tally.yaml or write it to the customers topic`,
    );
  }
  return { customerId, entitlements: currentEntitlements(customerId, states, declared, nowMs) };
}

/** One entitlement of an answer; 404 when the customer has no entitlement `key`. */
export function oneEntitlement(answer: CustomerEntitlements, key: string): EntitlementRecord {
  const found = answer.entitlements.find((e) => e.entitlement === key);
  if (found !== undefined) return found;
  const known = answer.entitlements.length === 0 ? 'it has none' : `its entitlements are ${answer.entitlements.map((e) => e.entitlement).join(', ')}`;
  throw new HttpError(404, 'entitlement-unknown', `customer ${JSON.stringify(answer.customerId)} has no entitlement ${JSON.stringify(key)}; ${known}`);
}
