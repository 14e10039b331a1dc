/**
 * `GET /v1/customers/{id}/invoices`: the customer's invoices, one per
 * billing period, newest first — read from the `rating-invoices` store of
 * the task the customer is partitioned to, here or on its owner.
 */
import { ratingEnabled, ratingStoreNames, type InvoiceState } from '../../processors/index.js';
import type { InvoiceRecord, TallyConfig } from '../../schemas/index.js';
import { HttpError } from '../api-errors.js';
import { readForCustomer, type CustomerStoreRead } from './customer-store-reads.js';
import type { StoreReadContext } from './store-reads.js';

export interface CustomerInvoices {
  readonly customerId: string;
  /** Newest billing period first. */
  readonly invoices: readonly InvoiceRecord[];
}

export const customerInvoicesRead: CustomerStoreRead<InvoiceState, InvoiceRecord> = {
  storeName: ratingStoreNames.invoices,
  internalPath: (customerId) => `/internal/v1/customers/${encodeURIComponent(customerId)}/invoices`,
  internalField: 'invoices',
  pick: (value, customerId) => (value.invoice.customerId === customerId ? value.invoice : undefined),
};

export async function answerCustomerInvoices(context: StoreReadContext, config: TallyConfig, customerId: string): Promise<CustomerInvoices> {
  if (!ratingEnabled(config)) throw new HttpError(404, 'rating-disabled', 'no plans are configured, so nothing is invoiced: declare plans (and customers) in tally.yaml');
  const invoices = await readForCustomer(context, customerId, customerInvoicesRead);
  if (invoices.length === 0 && !config.customers.some((c) => c.id === customerId)) {
    throw new HttpError(404, 'customer-unknown', `customer ${JSON.stringify(customerId)} has no invoices: it is not in the config and no usage has been rated for it`);
  }
  return { customerId, invoices: invoices.sort((a, b) => Date.parse(b.periodStart) - Date.parse(a.periodStart)) };
}
