/**
 * An entitlement's standing in one billing period, as pure functions: the
 * record for a usage and a limit, and the alert thresholds a usage reaches.
 * All arithmetic is exact decimal.
 */
import type { EntitlementConfig } from '../../schemas/config-types.js';
import type { EntitlementRecord } from '../../schemas/entitlement.js';
import { canonicalDecimal, Decimal } from '../decimal.js';
import type { BillingPeriod } from '../rating/index.js';

export interface EntitlementStanding {
  readonly customerId: string;
  readonly entitlement: EntitlementConfig;
  readonly period: BillingPeriod;
  /** Canonical decimal string. */
  readonly usage: string;
}

/** The record without its revision. */
export function entitlementContent(standing: EntitlementStanding): Omit<EntitlementRecord, 'revision'> {
  const { customerId, entitlement, period, usage } = standing;
  const left = new Decimal(entitlement.limit).minus(usage);
  return {
    customerId,
    entitlement: entitlement.key,
    meter: entitlement.meter,
    periodStart: period.start,
    periodEnd: period.end,
    limit: canonicalDecimal(new Decimal(entitlement.limit)),
    usage,
    remaining: left.isPositive() && !left.isZero() ? canonicalDecimal(left) : '0',
    overage: left.isNegative() && !left.isZero() ? canonicalDecimal(left.negated()) : '0',
    hasAccess: left.isPositive() && !left.isZero(),
  };
}

/** True when the two records say the same, revision aside. */
export function sameEntitlementContent(left: EntitlementRecord, right: Omit<EntitlementRecord, 'revision'>): boolean {
  return JSON.stringify({ ...left, revision: 0 }) === JSON.stringify({ ...right, revision: 0 });
}

/**
 * Thresholds of `entitlement` that `usage` reaches (usage ≥ threshold% ×
 * limit) and that are not in `alerted`, increasing.
 */
export function thresholdsReached(entitlement: EntitlementConfig, usage: string, alerted: readonly number[]): number[] {
  // usage × 100 ≥ limit × threshold: exact, with no division.
  const usageTimes100 = new Decimal(usage).times(100);
  const limit = new Decimal(entitlement.limit);
  return entitlement.alerts.filter((threshold) => !alerted.includes(threshold) && usageTimes100.gte(limit.times(threshold)));
}
