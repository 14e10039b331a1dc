/**
 * Dimensional prices: a charge's `filter` keeps the usage whose group-by
 * values match every entry — a string must be equal, a list must contain the
 * value. A group-by path missing from an event is the empty string, so it
 * matches only a filter that lists "" explicitly.
 */
import type { ChargeFilter } from '../../schemas/config-types.js';

/** True when usage grouped by `groupBy` is priced by a charge with `filter` (no filter: all usage). */
export function matchesFilter(filter: ChargeFilter | undefined, groupBy: Readonly<Record<string, string>>): boolean {
  if (filter === undefined) return true;
  for (const [key, wanted] of Object.entries(filter)) {
    const value = groupBy[key] ?? '';
    if (typeof wanted === 'string' ? value !== wanted : !wanted.includes(value)) return false;
  }
  return true;
}
