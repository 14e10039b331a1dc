/**
 * What travels on the usage-by-customer repartition topic (key: customer id):
 *
 * - `CustomerUsage`: a meter delta joined with the customer row of its subject;
 * - `CustomerTermsChange`: a customer row that changed on the customers topic.
 *   Rating and entitlements hold state per customer that was computed from the
 *   terms of earlier usage (a segment's end, its prorated fee, its close time;
 *   an entitlement's limit and thresholds); a change re-evaluates that state at
 *   once instead of waiting for the customer's next usage, which may never come
 *   (a customer cancelled after its last usage).
 *
 * A terms change carries no event time: the repartition source reads its
 * timestamp as null (`usageByCustomerTimestamp`), so it never moves rating's
 * stream time and never closes a period by itself.
 */
import type { CustomerRecord } from '../../schemas/customer-record.js';
import type { ConsumedRecord } from '../../topology/index.js';
import type { MeterDelta } from './meter-delta.js';

/** The customer as rating needs it: the row without its subjects (which could be many, on every delta). */
export type CustomerTerms = Omit<CustomerRecord, 'subjects'>;

/** A meter delta and the customer row it was joined with. */
export interface CustomerUsage extends MeterDelta {
  readonly customer: CustomerTerms;
}

/** A customer row written on the customers topic with terms that differ from the row it replaced. */
export interface CustomerTermsChange {
  readonly kind: 'terms-change';
  readonly customer: CustomerTerms;
  /** When the row was written: the customers record's timestamp, epoch ms. */
  readonly changedAtMs: number;
}

export type UsageByCustomer = CustomerUsage | CustomerTermsChange;

export function isTermsChange(value: UsageByCustomer): value is CustomerTermsChange {
  return (value as Partial<CustomerTermsChange>).kind === 'terms-change';
}

export function customerTerms(customer: CustomerRecord): CustomerTerms {
  const { subjects: _subjects, ...terms } = customer;
  return terms;
}

/** True when the two rows bill alike: everything but the subjects is equal. */
export function sameTerms(left: CustomerRecord, right: CustomerRecord): boolean {
  return JSON.stringify(customerTerms(left)) === JSON.stringify(customerTerms(right));
}

/** The repartition source's timestamp: the delta's (its window's last instant); none for a terms change. */
export function usageByCustomerTimestamp(record: ConsumedRecord<string, UsageByCustomer | null>): number | null {
  return record.value !== null && isTermsChange(record.value) ? null : record.timestampMs;
}
