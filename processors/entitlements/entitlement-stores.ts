/**
 * The entitlements task's stores, key-value, logged and cached:
 *
 * - `entitlement-usage`, one entry per (customer, entitlement, billing
 *   period), key `customer|entitlement|billingPeriodStart` (the topic key):
 *   the period's usage, its current record, and the alert thresholds already
 *   sent. The alerts sent live in the same entry as the usage, so both are
 *   restored together from the changelog.
 * - `entitlement-terms`, one entry per customer whose terms changed on the
 *   customers topic, key `customer|`: its entitlements, zone and anchor as
 *   last written, so a query can answer for a customer the config does not
 *   know, or knows with other entitlements, before any usage.
 */
import type { EntitlementConfig } from '../../schemas/config-types.js';
import type { EntitlementRecord } from '../../schemas/entitlement.js';
import { jsonSerde } from '../../schemas/serde.js';
import type { StoreSpec } from '../../state/index.js';
import type { ChargeUsage } from '../rating/index.js';

export const entitlementStoreNames = {
  usage: 'entitlement-usage',
  terms: 'entitlement-terms',
} as const;

/** Value in `entitlement-terms`: what a customer row on the topic says about entitlements. */
export interface EntitlementTerms {
  readonly customerId: string;
  /** Empty when the row has none (they were removed). */
  readonly entitlements: readonly EntitlementConfig[];
  readonly timezone: string;
  readonly billingAnchor: string;
}

/** `customer|`: a customer-prefix scan finds it beside the customer's usage. */
export function entitlementTermsKey(customerId: string): string {
  return `${customerId}|`;
}

/** Value in `entitlement-usage`. */
export interface EntitlementState {
  /** The period's usage, merged from every delta that matched (as a charge's). */
  readonly usage: ChargeUsage;
  /** The record as last computed; emitted when its revision changes at a flush. */
  readonly record: EntitlementRecord;
  /** Thresholds (percent) already alerted in this period, increasing. Never shrinks. */
  readonly alerted: readonly number[];
  /** Timestamp of the emitted record: the last instant of the latest window that changed it, epoch ms. */
  readonly timestampMs: number;
  /** The customer's zone and billing anchor when last changed: a query can then tell the current period after this one ended. */
  readonly timezone: string;
  readonly billingAnchor: string;
}

export function entitlementStoreSpecs(): StoreSpec[] {
  return [
    { name: entitlementStoreNames.usage, kind: 'keyValue', persistent: true, caching: true, logging: true, valueSerde: jsonSerde<EntitlementState>() },
    { name: entitlementStoreNames.terms, kind: 'keyValue', persistent: true, caching: true, logging: true, valueSerde: jsonSerde<EntitlementTerms>() },
  ] as StoreSpec[];
}

/** `customer|entitlement|billingPeriodStart`: the entitlements topic key and the store key. */
export function entitlementKey(customerId: string, entitlement: string, periodStart: string): string {
  return `${customerId}|${entitlement}|${periodStart}`;
}

/** `customer|entitlement|threshold|billingPeriodStart`: the alerts topic key. */
export function alertKey(customerId: string, entitlement: string, threshold: number, periodStart: string): string {
  return `${customerId}|${entitlement}|${threshold}|${periodStart}`;
}
