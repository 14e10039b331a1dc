/**
 * Value on `tally-billing-details` (docs/rating.md, "Billing details"),
 * mirrored by `schemas/avro/billing-detail.avsc`. Compacted; key
 * `customer|charge|periodStart` (periodStart as in the value). One record per
 * change of the detail; the latest revision is the current one.
 *
 * Quantities and money are exact decimal strings in canonical form: plain
 * notation, no exponent, no trailing zeros, zero is "0" ("115", "6.5",
 * "1235"). Each line's amount is rounded once, half-up, to the currency's
 * minor unit (USD 2, JPY 0); the record's amount is the exact sum of the
 * rounded lines, so the lines always add up to it.
 */

export const billingStatuses = ['provisional', 'final'] as const;
export type BillingStatus = (typeof billingStatuses)[number];

/**
 * One line of the breakdown, by model: `per_unit` one line "units" (flat fee
 * included); `graduated` one line per tier that holds units ("tier 1", …);
 * `volume` one line for the tier that holds the total; `package` one line
 * "packages"; `time_of_day` one line per interval with usage ("00:00-06:00").
 */
export interface BillingLine {
  /** What the line is: "units", "tier 2", "packages", "00:00-06:00". */
  readonly label: string;
  /** Tiers: units above this (exclusive), "0" for the first tier. Intervals: local start `HH:mm` (inclusive). Absent otherwise. */
  readonly from?: string;
  /** Tiers: up to and including this; absent on the open last tier. Intervals: local end `HH:mm` (exclusive). Absent otherwise. */
  readonly to?: string;
  /** Units priced on this line (packages, for the package line). */
  readonly quantity: string;
  /** Price per unit (or per package), as configured. */
  readonly unitPrice?: string;
  /** Flat fee included in this line's amount, as configured. */
  readonly flatFee?: string;
  /** quantity × unitPrice + flatFee, rounded once, half-up, to the currency's minor unit. */
  readonly amount: string;
}

export interface BillingDetailRecord {
  /** Deterministic id of (customer, charge, period): the first 32 hex digits of SHA-256 of the key. */
  readonly detailId: string;
  readonly customerId: string;
  /** The segment's plan (for a customer with `plan`: the one the period started with). */
  readonly plan: string;
  readonly charge: string;
  readonly meter: string;
  /**
   * Start of the detail's segment: the billing period, or the part of it one
   * subscription covers. ISO-8601 with the customer's offset, inclusive, e.g.
   * `2024-02-01T00:00:00.000-08:00`.
   */
  readonly periodStart: string;
  /** ISO-8601 with the customer's offset at that instant, exclusive. */
  readonly periodEnd: string;
  /** The whole billing period the segment lies in (equal to periodStart/periodEnd unless a subscription boundary splits it). */
  readonly billingPeriodStart: string;
  readonly billingPeriodEnd: string;
  readonly timezone: string;
  /** ISO 4217 code the period started with. */
  readonly currency: string;
  /** The period's usage: total (COUNT, SUM), last value (LATEST), maximum (MAX), distinct count (UNIQUE_COUNT). */
  readonly quantity: string;
  /** Sum of the lines' amounts. */
  readonly amount: string;
  readonly lines: readonly BillingLine[];
  /**
   * `provisional` while the period is open; `final` once stream time (or the
   * wall clock) reaches periodEnd + allowedLateness. A final detail changes
   * only if usage still arrives for it (a correction: status stays final,
   * revision + 1).
   */
  readonly status: BillingStatus;
  /** 1 for the first record of the detail, + 1 for every record after it. */
  readonly revision: number;
}
