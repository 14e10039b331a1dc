/**
 * The rating task's provisional details by close time, in memory: the index
 * finalization walks, so turning details final never scans a store. The
 * `rating-open-details` store stays the durable copy (it is logged and
 * restored); the index is loaded from it when the task starts and changed
 * alongside it. Entries come out in the store's key order: close time, then
 * detail key. The index also knows each customer's open details, so a change
 * of the customer's terms finds them without a scan.
 */
import { compareCodePoints } from '../code-point-order.js';
import { closeAtOfOpenKey } from './rating-stores.js';

export interface OpenDetail {
  /** Key in `rating-open-details` (close time, then detail key). */
  readonly openKey: string;
  /** Key in `rating-details`. */
  readonly key: string;
  readonly customerId: string;
  readonly closeAtMs: number;
}

export class OpenDetailIndex {
  /** Ascending by `openKey`. */
  #entries: OpenDetail[] = [];
  /** Customer id → keys of its details that may still be open (settled when they turn final). */
  readonly #byCustomer = new Map<string, Set<string>>();

  /** Close time of the earliest open detail; Infinity when none. */
  get earliestCloseAtMs(): number {
    return this.#entries[0]?.closeAtMs ?? Infinity;
  }

  add(openKey: string, key: string, customerId: string): void {
    const ofCustomer = this.#byCustomer.get(customerId);
    if (ofCustomer === undefined) this.#byCustomer.set(customerId, new Set([key]));
    else ofCustomer.add(key);
    const entry: OpenDetail = { openKey, key, customerId, closeAtMs: closeAtOfOpenKey(openKey) };
    const entries = this.#entries;
    const last = entries[entries.length - 1];
    if (last === undefined || compareCodePoints(last.openKey, openKey) < 0) {
      entries.push(entry);
      return;
    }
    let low = 0;
    let high = entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareCodePoints((entries[middle] as OpenDetail).openKey, openKey) < 0) low = middle + 1;
      else high = middle;
    }
    if (entries[low]?.openKey === openKey) return;
    entries.splice(low, 0, entry);
  }

  /** Removes and returns every detail whose close time is at or before `timeMs`, in key order. */
  takeDue(timeMs: number): OpenDetail[] {
    const entries = this.#entries;
    let count = 0;
    while (count < entries.length && (entries[count] as OpenDetail).closeAtMs <= timeMs) count++;
    return count === 0 ? [] : entries.splice(0, count);
  }

  /** Keys of the customer's details that may still be open (some may have turned final since). */
  detailsOf(customerId: string): string[] {
    return [...(this.#byCustomer.get(customerId) ?? [])];
  }

  /** The detail turned final: it is no longer one of its customer's open details. */
  settle(customerId: string, key: string): void {
    const ofCustomer = this.#byCustomer.get(customerId);
    if (ofCustomer === undefined) return;
    ofCustomer.delete(key);
    if (ofCustomer.size === 0) this.#byCustomer.delete(customerId);
  }
}
