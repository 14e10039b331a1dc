/**
 * The index of a meter task's open windows: every (meter, store key, window
 * start) written since its window last closed. Closing windows walks this
 * index instead of scanning the stores, so a `final` record costs one cached
 * read, like an update. The stores stay the truth: the index is rebuilt from
 * them when the task starts (`add` for every window at or after the close
 * bound), and only ever names windows the stores hold.
 *
 * It holds each store key once, with the starts of its open windows: a
 * subject with usage in sixty windows of an hour costs one key and sixty
 * numbers, not sixty copies of its key (every event brings a fresh copy, and
 * an index by start kept one per window: most of a task's live heap on a
 * backlog of old input, where no window closes before the input ends).
 */
export interface OpenWindow<P> {
  readonly plan: P;
  readonly key: string;
  readonly windowStartMs: number;
}

export class OpenWindowIndex<P> {
  /**
   * Plan → store key → the starts of its open windows: one start as a plain
   * number (most keys of a meter grouped by a property have one or two open
   * windows, and an array of one costs ~180 bytes), more as an ascending array.
   */
  readonly #byPlan = new Map<P, Map<string, number | number[]>>();
  /** Window start → how many open windows (of every plan) start there. */
  readonly #windowsByStart = new Map<number, number>();
  /** The starts in `#windowsByStart`, ascending. */
  #starts: number[] = [];

  /** How many distinct window starts are open. */
  get size(): number {
    return this.#starts.length;
  }

  /**
   * Indexes the window; returns false when it was indexed already. For a
   * window not yet closed, that says whether the store holds it.
   */
  add(plan: P, key: string, windowStartMs: number): boolean {
    let byKey = this.#byPlan.get(plan);
    if (byKey === undefined) {
      byKey = new Map();
      this.#byPlan.set(plan, byKey);
    }
    const starts = byKey.get(key);
    if (starts === undefined) byKey.set(key, windowStartMs);
    else if (typeof starts === 'number') {
      if (starts === windowStartMs) return false;
      byKey.set(key, starts < windowStartMs ? [starts, windowStartMs] : [windowStartMs, starts]);
    } else {
      const grown = withStart(starts, windowStartMs);
      if (grown === undefined) return false;
      if (grown !== starts) byKey.set(key, grown);
    }
    const windows = this.#windowsByStart.get(windowStartMs);
    if (windows === undefined) {
      this.#windowsByStart.set(windowStartMs, 1);
      insertSorted(this.#starts, windowStartMs);
    } else {
      this.#windowsByStart.set(windowStartMs, windows + 1);
    }
    return true;
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
      windows += this.#windowsByStart.get(start) as number;
    }
    return boundMs;
  }

  /**
   * Removes and returns every window that starts before `boundMs`, grouped
   * by plan in `planOrder`; within a plan in no particular order (the caller
   * orders them as it needs).
   */
  takeBefore(boundMs: number, planOrder: Iterable<P>): Map<P, OpenWindow<P>[]> {
    const taken = new Map<P, OpenWindow<P>[]>();
    let count = 0;
    while (count < this.#starts.length && (this.#starts[count] as number) < boundMs) count++;
    if (count === 0) return taken;
    for (const start of this.#starts.slice(0, count)) this.#windowsByStart.delete(start);
    this.#starts = this.#starts.slice(count);
    for (const plan of planOrder) {
      const byKey = this.#byPlan.get(plan);
      if (byKey === undefined) continue;
      const windows: OpenWindow<P>[] = [];
      // Deleting the entry being visited is safe: a Map's iteration goes on with the next one.
      for (const [key, starts] of byKey) {
        if (typeof starts === 'number') {
          if (starts >= boundMs) continue;
          windows.push({ plan, key, windowStartMs: starts });
          byKey.delete(key);
          continue;
        }
        let closing = 0;
        while (closing < starts.length && (starts[closing] as number) < boundMs) windows.push({ plan, key, windowStartMs: starts[closing++] as number });
        if (closing === starts.length) byKey.delete(key);
        else if (closing > 0) starts.splice(0, closing);
      }
      if (windows.length > 0) taken.set(plan, windows);
    }
    return taken;
  }
}

/** Up to this many starts a key's array is kept at its exact size (V8 grows an array by 1.5× + 16 slots on a push). */
const exactStarts = 16;

/**
 * `starts` (ascending) with `value` added: a new array of the exact size
 * while it is small, else `starts` itself, grown; undefined when `value` is
 * there already.
 */
function withStart(starts: number[], value: number): number[] | undefined {
  if (starts.length >= exactStarts) return insertSorted(starts, value) ? starts : undefined;
  let at = starts.length;
  while (at > 0 && (starts[at - 1] as number) > value) at--;
  if (at > 0 && starts[at - 1] === value) return undefined;
  const grown = new Array<number>(starts.length + 1);
  for (let index = 0; index < at; index++) grown[index] = starts[index] as number;
  grown[at] = value;
  for (let index = at; index < starts.length; index++) grown[index + 1] = starts[index] as number;
  return grown;
}

/**
 * Inserts `value` into the ascending `values` unless it is there; returns
 * whether it was inserted. New starts are nearly always the newest, so this
 * is mostly a push.
 */
function insertSorted(values: number[], value: number): boolean {
  const last = values[values.length - 1];
  if (last === undefined || last < value) {
    values.push(value);
    return true;
  }
  if (last === value) return false;
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((values[middle] as number) < value) low = middle + 1;
    else high = middle;
  }
  if (values[low] === value) return false;
  values.splice(low, 0, value);
  return true;
}
