/**
 * Value on `tally-billing-details` (DESIGN §3 "Billing detail events"),
 * mirrored by `schemas/avro/billing-detail.avsc`. Compacted; key
 * `customer|charge|periodStart`. Money and quantities are exact decimal strings.
 */

export const billingStatuses = ['provisional', 'final'] as const;
export type BillingStatus = (typeof billingStatuses)[number];

/** One line of the breakdown: a tier, a time-of-day interval, a package count or a flat fee. */
export interface BillingLine {
  /** What the line is, e.g. "flat fee", "tier 2", "00:00-06:00", "packages". */
  readonly label: string;
  /** Tiers: units above this (exclusive). Intervals: local start `HH:mm` (inclusive). Absent when not applicable. */
  readonly from?: string;
  /** Tiers: up to and including this; absent on the open last tier. Intervals: local end `HH:mm` (exclusive). */
  readonly to?: string;
  /** Units priced on this line (packages, for package lines). */
  readonly quantity: string;
  /** Price per unit (or per package), as configured. */
  readonly unitPrice?: string;
  /** Flat fee on this line, as configured. */
  readonly flatFee?: string;
  /** Rounded once, half-up, to the currency's minor unit. */
  readonly amount: string;
}

export interface BillingDetailRecord {
  /** Deterministic id of (customer, charge, period). */
  readonly detailId: string;
  readonly customerId: string;
  readonly plan: string;
  readonly charge: string;
  readonly meter: string;
  /** ISO-8601 with the customer's offset, inclusive. */
  readonly periodStart: string;
  /** ISO-8601 with the customer's offset, exclusive. */
  readonly periodEnd: string;
  readonly timezone: string;
  readonly currency: string;
  readonly quantity: string;
  /** Sum of the lines' amounts. */
  readonly amount: string;
  readonly lines: readonly BillingLine[];
  /** `provisional` while the period is open, `final` once stream time (or the wall clock) passes periodEnd + allowedLateness. */
  readonly status: BillingStatus;
  /** Increments on every change. */
  readonly revision: number;
}
