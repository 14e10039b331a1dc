/**
 * Meter deltas: what a window's change contributes to rating. The meter
 * aggregate computes one per flushed window change, from the value the store
 * held at the previous flush (old) and holds now (new), so a window emitted
 * again (its final record, a replayed update) adds nothing:
 *
 * - COUNT, SUM: `add` = new − old, exact (negative when a SUM went down);
 * - UNIQUE_COUNT: `merge` = the values new has and old had not;
 * - MAX, LATEST: `merge` = the new window accumulator.
 *
 * Merges are idempotent (union, max, latest-by-order), and the period keeps
 * one accumulator merged over every window and subject, so UNIQUE_COUNT is
 * the distinct count over the whole period, not a sum of windows. AVG and MIN
 * cannot be charged (the config refuses them) and produce no delta.
 */
import type { AggregationName } from '../../schemas/config-types.js';
import type { MeterWindowValue } from '../aggregations/aggregation.js';
import { subtractDecimals } from '../decimal.js';

/** How a delta changes a period's usage. */
export type UsageChange = { readonly add: string } | { readonly merge: unknown };

/** Value forwarded to rating (key: the subject). */
export interface MeterDelta {
  readonly meter: string;
  readonly aggregation: AggregationName;
  readonly subject: string;
  readonly groupBy: Readonly<Record<string, string>>;
  /** Window bounds, epoch ms, half-open. */
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  readonly change: UsageChange;
}

/** Values in sorted `next` that sorted `previous` lacks. */
function addedValues(next: readonly string[], previous: readonly string[]): string[] {
  const added: string[] = [];
  let j = 0;
  for (const value of next) {
    while (j < previous.length && (previous[j] as string) < value) j++;
    if (j >= previous.length || previous[j] !== value) added.push(value);
  }
  return added;
}

/** The change from `oldValue` to `newValue` of one window; undefined when nothing changed for rating. */
export function usageChange(aggregation: AggregationName, newValue: MeterWindowValue, oldValue: MeterWindowValue | undefined): UsageChange | undefined {
  switch (aggregation) {
    case 'COUNT':
    case 'SUM': {
      const delta = subtractDecimals(String(newValue.acc), String(oldValue?.acc ?? 0));
      return delta === '0' ? undefined : { add: delta };
    }
    case 'UNIQUE_COUNT': {
      const added = addedValues(newValue.acc as string[], (oldValue?.acc ?? []) as string[]);
      return added.length === 0 ? undefined : { merge: added };
    }
    case 'MAX':
    case 'LATEST':
      if (newValue.acc === null) return undefined;
      return oldValue !== undefined && JSON.stringify(oldValue.acc) === JSON.stringify(newValue.acc) ? undefined : { merge: newValue.acc };
    default:
      return undefined;
  }
}
