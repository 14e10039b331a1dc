/**
 * Values on the entitlements and alerts topics. JSON; field names are the
 * contract. Decimals are canonical decimal strings; periods are the billing
 * period, ISO-8601 with the customer's offset (start inclusive, end
 * exclusive), as on invoices.
 */

/**
 * `topics.entitlements` (default `tally-entitlements`; compacted, key
 * `customer|entitlement|billingPeriodStart`): an entitlement's usage in one
 * billing period.
 */
export interface EntitlementRecord {
  readonly customerId: string;
  /** The entitlement key. */
  readonly entitlement: string;
  readonly meter: string;
  readonly periodStart: string;
  readonly periodEnd: string;
  /** Usage allowed in the period. */
  readonly limit: string;
  /** Usage in the period as a charge on the meter counts it (total, last, maximum or distinct count). */
  readonly usage: string;
  /** limit − usage, never below "0". */
  readonly remaining: string;
  /** usage − limit when positive, else "0". */
  readonly overage: string;
  /** usage < limit. */
  readonly hasAccess: boolean;
  /** 1 for the first record of the key, + 1 for every record after it. */
  readonly revision: number;
}

/**
 * `topics.alerts` (default `tally-alerts`; key
 * `customer|entitlement|threshold|billingPeriodStart`): usage reached
 * `threshold`% of `limit` for the first time in the period. Written once per
 * key.
 */
export interface AlertRecord {
  readonly customerId: string;
  readonly entitlement: string;
  /** Percent of the limit, as configured. */
  readonly threshold: number;
  readonly limit: string;
  /** Usage right after the change that reached the threshold. */
  readonly usage: string;
  readonly periodStart: string;
  readonly periodEnd: string;
  /** Start of the meter window whose usage reached the threshold, ISO-8601 UTC. */
  readonly crossedAt: string;
}
