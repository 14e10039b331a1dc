/**
 * Reads of one customer's entries in a store keyed `customer|…` and
 * partitioned by customer (invoices, entitlements): only the task the
 * customer is partitioned to is read, here or on its owner through the
 * internal API, with a prefix scan of the customer's keys.
 */
import type { ReadOnlyKeyValueStore } from '../../state/index.js';
import type { KafkaApp } from '../../topology/kafka/index.js';
import { getFromPeer } from './peer-client.js';
import { assertAllLocal, notStarted, readAcrossInstances, type StoreReadContext } from './store-reads.js';
import { taskForKey } from './task-owners.js';

export interface CustomerStoreRead<V, T> {
  readonly storeName: string;
  /** The internal route's path for a customer, and the field of its JSON answer that holds the items. */
  internalPath(customerId: string): string;
  readonly internalField: string;
  /** The item a stored value gives, or undefined when it is another customer's (the prefix `<id>|` also matches ids that start with it). */
  pick(value: V, customerId: string): T | undefined;
  /**
   * When the customer's entries that matter are known keys: they are read
   * with synchronous gets instead of a prefix scan, so a local read takes no
   * turn of the event loop. Only the keys' entries are answered.
   */
  readonly keys?: (customerId: string) => readonly string[];
}

async function collect<V, T>(stores: readonly ReadOnlyKeyValueStore<V>[], customerId: string, read: CustomerStoreRead<V, T>): Promise<T[]> {
  const items: T[] = [];
  if (read.keys !== undefined) {
    const keys = read.keys(customerId);
    for (const store of stores) {
      for (const key of keys) {
        const value = store.get(key);
        const item = value === undefined ? undefined : read.pick(value, customerId);
        if (item !== undefined) items.push(item);
      }
    }
    return items;
  }
  for (const store of stores) {
    for await (const { value } of store.prefixScan(`${customerId}|`)) {
      const item = read.pick(value, customerId);
      if (item !== undefined) items.push(item);
    }
  }
  return items;
}

/** The owner's side: every item of `customerId` in `taskIds`, which must all run here (409 otherwise). */
export async function readLocalForCustomer<V, T>(app: KafkaApp, taskIds: readonly string[], customerId: string, read: CustomerStoreRead<V, T>): Promise<T[]> {
  return app.readLocalStores<ReadOnlyKeyValueStore<V>, T[]>(read.storeName, async (stores) => {
    const wanted = stores.filter((s) => taskIds.includes(s.taskId));
    assertAllLocal(taskIds, wanted.map((s) => s.taskId));
    return collect(wanted.map((s) => s.store), customerId, read);
  });
}

/** Every item of `customerId`, from the task it is partitioned to (503 while that task cannot be read). */
export async function readForCustomer<V, T>(context: StoreReadContext, customerId: string, read: CustomerStoreRead<V, T>): Promise<T[]> {
  const allTasks = context.app.storeTaskIds(read.storeName);
  if (allTasks.length === 0) throw notStarted();
  return readAcrossInstances<ReadOnlyKeyValueStore<V>, T[], T[]>(context, {
    storeName: read.storeName,
    taskIds: [taskForKey(allTasks, customerId)],
    fetchRemote: async (server, ids) => {
      const params = new URLSearchParams(ids.map((id): [string, string] => ['task', id]));
      const answer = await getFromPeer<Record<string, T[]>>({ server, path: read.internalPath(customerId), params, token: context.peerToken });
      return answer[read.internalField] ?? [];
    },
    compute: async (local, remote) => [...(await collect(local, customerId, read)), ...remote.flat()],
  });
}
