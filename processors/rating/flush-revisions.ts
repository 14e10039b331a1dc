/**
 * Revisions of records emitted when a store's cache flushes (billing details,
 * invoices): a record's revision goes up by exactly one per emitted change.
 * Changes between two flushes share one revision, because the cache emits
 * them once, coalesced.
 *
 * Lifecycle: `next` when a change is written to the store; `flushed` when the
 * flush listener sees the key, after which the next change raises it again.
 */
export class FlushRevisions {
  /** Keys whose revision was raised since their last flush. */
  readonly #raised = new Set<string>();

  /** The revision for a change of `key` whose stored revision is `stored` (undefined: a new record). */
  next(key: string, stored: number | undefined): number {
    if (stored === undefined) {
      this.#raised.add(key);
      return 1;
    }
    if (this.#raised.has(key)) return stored;
    this.#raised.add(key);
    return stored + 1;
  }

  flushed(key: string): void {
    this.#raised.delete(key);
  }
}
