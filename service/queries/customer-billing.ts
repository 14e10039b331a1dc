/**
 * `GET /v1/customers/{id}/billing`: the customer's current billing details
 * — for each charge, the detail of its latest billing period (the current
 * one while usage flows) — read from the `rating-details` store of the task
 * the customer is partitioned to, here or on its owner.
 */
import { ratingEnabled, ratingStoreNames, type DetailState } from '../../processors/index.js';
import type { BillingDetailRecord, TallyConfig } from '../../schemas/index.js';
import { HttpError } from '../api-errors.js';
import { readForCustomer, type CustomerStoreRead } from './customer-store-reads.js';
import type { StoreReadContext } from './store-reads.js';

/** One stored detail as the internal API sends it. */
export interface StoredDetail {
  readonly detail: BillingDetailRecord;
  readonly periodEndMs: number;
}

export interface CustomerBilling {
  readonly customerId: string;
  /** One detail per charge with usage, its latest period, sorted by charge. */
  readonly charges: readonly BillingDetailRecord[];
}

export const customerDetailsRead: CustomerStoreRead<DetailState, StoredDetail> = {
  storeName: ratingStoreNames.details,
  internalPath: (customerId) => `/internal/v1/customers/${encodeURIComponent(customerId)}/details`,
  internalField: 'details',
  pick: (value, customerId) => (value.detail.customerId === customerId ? { detail: value.detail, periodEndMs: value.periodEndMs } : undefined),
};

/** The latest period's detail of each charge. */
function currentByCharge(details: readonly StoredDetail[]): BillingDetailRecord[] {
  const latest = new Map<string, StoredDetail>();
  for (const stored of details) {
    const seen = latest.get(stored.detail.charge);
    if (seen === undefined || stored.periodEndMs > seen.periodEndMs) latest.set(stored.detail.charge, stored);
  }
  return [...latest.values()].map((s) => s.detail).sort((a, b) => (a.charge < b.charge ? -1 : a.charge > b.charge ? 1 : 0));
}

export async function answerCustomerBilling(context: StoreReadContext, config: TallyConfig, customerId: string): Promise<CustomerBilling> {
  if (!ratingEnabled(config)) {
    throw new HttpError(404, 'rating-disabled', 'no plans are configured, so nothing is rated: declare plans (and customers) in tally.yaml to get billing details');
  }
  const details = await readForCustomer(context, customerId, customerDetailsRead);
  if (details.length === 0 && !config.customers.some((c) => c.id === customerId)) {
    throw new HttpError(
      404,
      'customer-unknown',
      `customer ${JSON.stringify(customerId)} has no billing details: it is not in the config and no usage has been rated for it (customers added on the customers topic appear here once their usage is rated)`,
    );
  }
  return { customerId, charges: currentByCharge(details) };
}
