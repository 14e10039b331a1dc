/**
 * The index of a meter task's open windows: every (meter, store key, window
 * start) written since its window last closed. Closing windows walks this
 * index instead of scanning the stores, so a `final` record costs one cached
 * read, like an update. The stores stay the truth: the index is rebuilt from
 * them when the task starts (`add` for every window at or after the close
 * bound), and only ever names windows the stores hold.
 */
export interface OpenWindow<P> {
  readonly plan: P;
  readonly key: string;
  readonly windowStartMs: number;
}

export class OpenWindowIndex<P> {
  /** Window start → plan → store keys. */
  readonly #byStart = new Map<number, Map<P, Set<string>>>();
  /** The starts in `#byStart`, ascending. */
  #starts: number[] = [];

  get size(): number {
    return this.#starts.length;
  }

  /**
   * Indexes the window; returns false when it was indexed already. For a
   * window not yet closed, that says whether the store holds it.
   */
  add(plan: P, key: string, windowStartMs: number): boolean {
    let byPlan = this.#byStart.get(windowStartMs);
    if (byPlan === undefined) {
      byPlan = new Map();
      this.#byStart.set(windowStartMs, byPlan);
      this.#insertStart(windowStartMs);
    }
    let keys = byPlan.get(plan);
    if (keys === undefined) {
      keys = new Set();
      byPlan.set(plan, keys);
    }
    const size = keys.size;
    keys.add(key);
    return keys.size !== size;
  }

  /**
   * A bound at most `boundMs` that takes whole window starts, in order, until
   * they hold at least `maxWindows` windows (always at least the first start
   * before `boundMs`): `takeBefore` of it closes a bounded step of a large
   * close. `boundMs` itself when the starts before it hold no more.
   */
  stepBound(boundMs: number, maxWindows: number): number {
    let windows = 0;
    for (const start of this.#starts) {
      if (start >= boundMs) return boundMs;
      if (windows >= maxWindows) return start;
      for (const keys of (this.#byStart.get(start) as Map<P, Set<string>>).values()) windows += keys.size;
    }
    return boundMs;
  }

  /**
   * Removes and returns every window that starts before `boundMs`, grouped
   * by plan in `planOrder`, each group by window start, then key in insertion
   * order. The caller orders them further if it needs to.
   */
  takeBefore(boundMs: number, planOrder: Iterable<P>): Map<P, OpenWindow<P>[]> {
    const taken = new Map<P, OpenWindow<P>[]>();
    let count = 0;
    while (count < this.#starts.length && (this.#starts[count] as number) < boundMs) count++;
    if (count === 0) return taken;
    const closing = this.#starts.slice(0, count);
    this.#starts = this.#starts.slice(count);
    for (const plan of planOrder) {
      const windows: OpenWindow<P>[] = [];
      for (const windowStartMs of closing) {
        const keys = this.#byStart.get(windowStartMs)?.get(plan);
        if (keys !== undefined) for (const key of keys) windows.push({ plan, key, windowStartMs });
      }
      if (windows.length > 0) taken.set(plan, windows);
    }
    for (const windowStartMs of closing) this.#byStart.delete(windowStartMs);
    return taken;
  }

  /** Binary insertion: new starts are nearly always the newest, so this is mostly a push. */
  #insertStart(windowStartMs: number): void {
    const starts = this.#starts;
    if (starts.length === 0 || (starts[starts.length - 1] as number) < windowStartMs) {
      starts.push(windowStartMs);
      return;
    }
    let low = 0;
    let high = starts.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((starts[middle] as number) < windowStartMs) low = middle + 1;
      else high = middle;
    }
    starts.splice(low, 0, windowStartMs);
  }
}
