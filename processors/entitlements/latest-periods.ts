/**
 * The latest billing period each (customer, entitlement) has state for in
 * `entitlement-usage`, in memory: a change of the customer's terms finds the
 * period to re-evaluate without a scan. Loaded from the store when the task
 * starts and kept as usage is applied.
 */
export class LatestPeriods {
  /** Customer id → entitlement key → store key and period start of its latest period. */
  readonly #byCustomer = new Map<string, Map<string, { readonly key: string; readonly periodStartMs: number }>>();

  note(customerId: string, entitlement: string, key: string, periodStartMs: number): void {
    let ofCustomer = this.#byCustomer.get(customerId);
    if (ofCustomer === undefined) this.#byCustomer.set(customerId, (ofCustomer = new Map()));
    const known = ofCustomer.get(entitlement);
    if (known === undefined || known.periodStartMs < periodStartMs) ofCustomer.set(entitlement, { key, periodStartMs });
  }

  /** Store key of the entitlement's latest period, if it has any state. */
  keyOf(customerId: string, entitlement: string): string | undefined {
    return this.#byCustomer.get(customerId)?.get(entitlement)?.key;
  }
}
