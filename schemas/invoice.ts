/**
 * Value on the invoices topic (`topics.invoices`, default `tally-invoices`;
 * compacted, key `customer|billingPeriodStart`): one invoice per customer and
 * billing period, with one line per billing detail of the period (a detail
 * per charge and segment). JSON; field names are the contract.
 *
 * Money is exact decimal strings in canonical form, like billing details:
 * each line's amount is already rounded to the currency's minor unit, and
 * `total` is their exact sum, so the lines always add up to it.
 */
import type { BillingStatus } from './billing-detail.js';

export const invoiceStatuses = ['draft', 'final'] as const;
export type InvoiceStatus = (typeof invoiceStatuses)[number];

/** One billing detail of the period, as the invoice shows it. */
export interface InvoiceLine {
  readonly charge: string;
  readonly plan: string;
  /** The detail's segment, ISO-8601 with the customer's offset (start inclusive, end exclusive). */
  readonly periodStart: string;
  readonly periodEnd: string;
  readonly quantity: string;
  readonly amount: string;
  readonly status: BillingStatus;
}

export interface InvoiceRecord {
  /** Deterministic id of (customer, billing period): the first 32 hex digits of SHA-256 of the key. */
  readonly invoiceId: string;
  readonly customerId: string;
  /** The billing period, ISO-8601 with the customer's offset (start inclusive, end exclusive). */
  readonly periodStart: string;
  readonly periodEnd: string;
  readonly timezone: string;
  readonly currency: string;
  /** Ordered by segment start, then charge key. */
  readonly lines: readonly InvoiceLine[];
  /** Exact sum of the lines' amounts. */
  readonly total: string;
  /** `draft` while any line is provisional; `final` once every line is final. */
  readonly status: InvoiceStatus;
  /** 1 for the first record of the invoice, + 1 for every record after it. */
  readonly revision: number;
}
