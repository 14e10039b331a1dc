/**
 * `GET /v1/customers/{id}/billing`: the customer's current billing details
 * — for each charge, the detail of its latest billing period (the current
 * one while usage flows) — read from the `rating-details` store of the task
 * the customer is partitioned to, here or on its owner.
 */
import { ratingEnabled, ratingStoreNames, type DetailState } from '../../processors/index.js';
import type { BillingDetailRecord, TallyConfig } from '../../schemas/index.js';
import type { ReadOnlyKeyValueStore } from '../../state/index.js';
import type { KafkaApp } from '../../topology/kafka/index.js';
import { HttpError } from '../api-errors.js';
import { getFromPeer } from './peer-client.js';
import { assertAllLocal, notStarted, readAcrossInstances, type StoreReadContext } from './store-reads.js';
import { taskForKey } from './task-owners.js';

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

export const internalDetailsPath = (customerId: string): string => `/internal/v1/customers/${encodeURIComponent(customerId)}/details`;

/** The owner's side: every stored detail of `customerId` in `taskIds`, which must all run here (409 otherwise). */
export async function readLocalDetails(app: KafkaApp, taskIds: readonly string[], customerId: string): Promise<StoredDetail[]> {
  return app.readLocalStores<ReadOnlyKeyValueStore<DetailState>, StoredDetail[]>(ratingStoreNames.details, async (stores) => {
    const wanted = stores.filter((s) => taskIds.includes(s.taskId));
    assertAllLocal(taskIds, wanted.map((s) => s.taskId));
    return collectDetails(wanted.map((s) => s.store), customerId);
  });
}

async function collectDetails(stores: readonly ReadOnlyKeyValueStore<DetailState>[], customerId: string): Promise<StoredDetail[]> {
  const details: StoredDetail[] = [];
  for (const store of stores) {
    for await (const { value } of store.prefixScan(`${customerId}|`)) {
      // The prefix also matches ids that start with "<id>|"; the value says whose it is.
      if (value.detail.customerId === customerId) details.push({ detail: value.detail, periodEndMs: value.periodEndMs });
    }
  }
  return details;
}

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
  const allTasks = context.app.storeTaskIds(ratingStoreNames.details);
  if (allTasks.length === 0) throw notStarted();
  const taskId = taskForKey(allTasks, customerId);
  const details = await readAcrossInstances<ReadOnlyKeyValueStore<DetailState>, StoredDetail[], StoredDetail[]>(context, {
    storeName: ratingStoreNames.details,
    taskIds: [taskId],
    fetchRemote: async (server, ids) => {
      const params = new URLSearchParams(ids.map((id): [string, string] => ['task', id]));
      return (await getFromPeer<{ details: StoredDetail[] }>({ server, path: internalDetailsPath(customerId), params, token: context.peerToken })).details;
    },
    compute: async (local, remote) => [...(await collectDetails(local, customerId)), ...remote.flat()],
  });
  if (details.length === 0 && !config.customers.some((c) => c.id === customerId)) {
    throw new HttpError(
      404,
      'customer-unknown',
      `customer ${JSON.stringify(customerId)} has no billing details: it is not in the config and no usage has been rated for it (customers added on the customers topic appear here once their usage is rated)`,
    );
  }
  return { customerId, charges: currentByCharge(details) };
}
