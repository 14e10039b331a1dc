/**
 * `GET /v1/customers/{id}/invoices`: the customer's invoices, one per
 * billing period, newest first — read from the `rating-invoices` store of
 * the task the customer is partitioned to, here or on its owner.
 */
import { ratingEnabled, ratingStoreNames, type InvoiceState } from '../../processors/index.js';
import type { InvoiceRecord, TallyConfig } from '../../schemas/index.js';
import type { ReadOnlyKeyValueStore } from '../../state/index.js';
import type { KafkaApp } from '../../topology/kafka/index.js';
import { HttpError } from '../api-errors.js';
import { getFromPeer } from './peer-client.js';
import { assertAllLocal, notStarted, readAcrossInstances, type StoreReadContext } from './store-reads.js';
import { taskForKey } from './task-owners.js';

export interface CustomerInvoices {
  readonly customerId: string;
  /** Newest billing period first. */
  readonly invoices: readonly InvoiceRecord[];
}

export const internalInvoicesPath = (customerId: string): string => `/internal/v1/customers/${encodeURIComponent(customerId)}/invoices`;

async function collectInvoices(stores: readonly ReadOnlyKeyValueStore<InvoiceState>[], customerId: string): Promise<InvoiceRecord[]> {
  const invoices: InvoiceRecord[] = [];
  for (const store of stores) {
    for await (const { value } of store.prefixScan(`${customerId}|`)) {
      // The prefix also matches ids that start with "<id>|"; the value says whose it is.
      if (value.invoice.customerId === customerId) invoices.push(value.invoice);
    }
  }
  return invoices;
}

/** The owner's side: every stored invoice of `customerId` in `taskIds`, which must all run here (409 otherwise). */
export async function readLocalInvoices(app: KafkaApp, taskIds: readonly string[], customerId: string): Promise<InvoiceRecord[]> {
  return app.readLocalStores<ReadOnlyKeyValueStore<InvoiceState>, InvoiceRecord[]>(ratingStoreNames.invoices, async (stores) => {
    const wanted = stores.filter((s) => taskIds.includes(s.taskId));
    assertAllLocal(taskIds, wanted.map((s) => s.taskId));
    return collectInvoices(wanted.map((s) => s.store), customerId);
  });
}

export async function answerCustomerInvoices(context: StoreReadContext, config: TallyConfig, customerId: string): Promise<CustomerInvoices> {
  if (!ratingEnabled(config)) throw new HttpError(404, 'rating-disabled', 'no plans are configured, so nothing is invoiced: declare plans (and customers) in tally.yaml');
  const allTasks = context.app.storeTaskIds(ratingStoreNames.invoices);
  if (allTasks.length === 0) throw notStarted();
  const invoices = await readAcrossInstances<ReadOnlyKeyValueStore<InvoiceState>, InvoiceRecord[], InvoiceRecord[]>(context, {
    storeName: ratingStoreNames.invoices,
    taskIds: [taskForKey(allTasks, customerId)],
    fetchRemote: async (server, ids) => {
      const params = new URLSearchParams(ids.map((id): [string, string] => ['task', id]));
      return (await getFromPeer<{ invoices: InvoiceRecord[] }>({ server, path: internalInvoicesPath(customerId), params, token: context.peerToken })).invoices;
    },
    compute: async (local, remote) => [...(await collectInvoices(local, customerId)), ...remote.flat()],
  });
  if (invoices.length === 0 && !config.customers.some((c) => c.id === customerId)) {
    throw new HttpError(404, 'customer-unknown', `customer ${JSON.stringify(customerId)} has no invoices: it is not in the config and no usage has been rated for it`);
  }
  return { customerId, invoices: invoices.sort((a, b) => Date.parse(b.periodStart) - Date.parse(a.periodStart)) };
}
