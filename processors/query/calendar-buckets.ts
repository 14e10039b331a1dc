/**
 * Calendar buckets of a query's `windowSize` in its `windowTimeZone`, computed
 * with luxon: MINUTE and HOUR start on local minute and hour boundaries (an
 * hour in Asia/Kolkata starts at :30 UTC), DAY at local midnight (23 or 25
 * hours across DST), MONTH at local midnight on the first of the month.
 */
import { DateTime, Duration } from 'luxon';

export const queryWindowSizes = ['MINUTE', 'HOUR', 'DAY', 'MONTH'] as const;
/** The coarser window a query groups base windows into. */
export type QueryWindowSize = (typeof queryWindowSizes)[number];

const luxonUnits = { MINUTE: 'minute', HOUR: 'hour', DAY: 'day', MONTH: 'month' } as const;

/**
 * The shortest a bucket of each size can be (ms), ignoring DST: a base window
 * longer than this can never fit in one bucket.
 */
export const shortestBucketMs: Readonly<Record<QueryWindowSize, number>> = {
  MINUTE: 60_000,
  HOUR: 3_600_000,
  DAY: 86_400_000,
  MONTH: 28 * 86_400_000,
};

/** A half-open span `[startMs, endMs)` of epoch milliseconds. */
export interface TimeSpan {
  readonly startMs: number;
  readonly endMs: number;
}

/**
 * The calendar bucket of `windowSize` in `zone` that holds `instantMs`
 * (unclipped). `zone` must be a valid IANA zone (checked by the parser).
 */
export function calendarBucket(instantMs: number, windowSize: QueryWindowSize, zone: string): TimeSpan {
  const unit = luxonUnits[windowSize];
  const start = DateTime.fromMillis(instantMs, { zone }).startOf(unit);
  // The next bucket's start, not start + 1 unit: a local midnight skipped by DST moves to the first existing instant.
  const end = start.plus({ [unit]: 1 }).startOf(unit);
  return { startMs: start.toMillis(), endMs: end.toMillis() };
}

/**
 * A memoized `calendarBucket` for one scan: buckets already found are looked
 * up by binary search, so luxon (about 40 µs a call) runs once per bucket, not
 * once per base window.
 */
export function createBucketLocator(windowSize: QueryWindowSize, zone: string): (instantMs: number) => TimeSpan {
  const found: TimeSpan[] = []; // sorted by start, disjoint
  return (instantMs) => {
    let low = 0;
    let high = found.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const bucket = found[middle] as TimeSpan;
      if (instantMs < bucket.startMs) high = middle;
      else if (instantMs >= bucket.endMs) low = middle + 1;
      else return bucket;
    }
    const bucket = calendarBucket(instantMs, windowSize, zone);
    found.splice(low, 0, bucket);
    return bucket;
  };
}

/** A duration in ms as ISO-8601 (`PT5M`) for messages. */
export function isoDuration(durationMs: number): string {
  return Duration.fromMillis(durationMs).rescale().toISO() ?? `${durationMs} ms`;
}

/** An instant in epoch ms as ISO-8601 UTC with milliseconds (`2024-12-31T23:00:00.000Z`). */
export function isoInstant(instantMs: number): string {
  return new Date(instantMs).toISOString();
}
