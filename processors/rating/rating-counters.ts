/**
 * Counters the rating processors bump; the service exposes them as metrics,
 * `tally replay` prints them as progress. Usage nobody pays for is a dead
 * letter (reason `unrated`) and is counted with the other dead letters in
 * `MeteringCounters.deadLetters`.
 */
export interface RatingCounters {
  /** Meter deltas joined to a customer and sent to rating. */
  usageJoined: number;
  /** Deltas of a meter the customer's plan for that period does not charge: not billed, not an error. */
  usageNotCharged: number;
  /** Billing detail records emitted (provisional and final). */
  billingRecords: number;
  /** Invoice records emitted (draft and final). */
  invoiceRecords: number;
  /** Details that became final. */
  billingFinals: number;
  /** Usage applied to a period that was already final (a corrected final detail, revision + 1). */
  billingCorrections: number;
  /** Entitlement records emitted (one per revision). */
  entitlementRecords: number;
  /** Alerts emitted: each threshold once per entitlement and billing period. */
  alertRecords: number;
  /** Records on the customers topic refused (dead-lettered); the previous row stays. */
  customersRefused: number;
  /** Rows on the customers topic whose terms changed, forwarded to rating and entitlements (one per subject row). */
  customerTermsChanges: number;
  /** Open details re-rated because their customer's terms changed (new bounds, prorated fee or close time). */
  detailsRevised: number;
}

export function createRatingCounters(): RatingCounters {
  return { usageJoined: 0, usageNotCharged: 0, billingRecords: 0, invoiceRecords: 0, billingFinals: 0, billingCorrections: 0, entitlementRecords: 0, alertRecords: 0, customersRefused: 0, customerTermsChanges: 0, detailsRevised: 0 };
}
