/**
 * Monthly billing periods in the customer's zone (docs/rating.md, "Billing periods").
 *
 * A period starts at local midnight of the anchor's day of month, clamped to
 * the month's last day (anchor 31 → Jan 31, Feb 29, Mar 31 in 2024), and ends
 * where the next one starts. Only the anchor's day matters: the anchor date
 * does not bound usage, so usage before it falls in the period that would hold
 * it. Every boundary is computed with luxon in the customer's IANA zone, never
 * from a UTC date: 2024-02-21T06:05Z is 2024-02-20 in Los Angeles, so it
 * belongs to the period that ends 2024-02-21T00:00-08:00 (Kill Bill billed
 * such usage a month late by comparing the UTC date).
 *
 * Local midnight that does not exist (a DST jump at 00:00, e.g.
 * America/Santiago in September) becomes the first instant of that local day
 * (01:00), which is what luxon resolves a skipped local time to.
 */
import { DateTime } from 'luxon';

export interface BillingPeriod {
  /** Inclusive start, epoch ms. */
  readonly startMs: number;
  /** Exclusive end, epoch ms: the next period's start. */
  readonly endMs: number;
  /** `startMs` as ISO-8601 with the customer's offset at that instant, e.g. `2024-02-01T00:00:00.000-08:00`. */
  readonly start: string;
  /** `endMs` as ISO-8601 with the customer's offset at that instant. */
  readonly end: string;
}

/** The anchor's day of month (1–31) from a `YYYY-MM-DD` local date. */
export function anchorDayOf(billingAnchor: string): number {
  const day = Number(billingAnchor.slice(8, 10));
  if (!/^\d{4}-\d{2}-\d{2}$/.test(billingAnchor) || day < 1 || day > 31) {
    throw new RangeError(`billing anchor ${JSON.stringify(billingAnchor)} is not a YYYY-MM-DD date`);
  }
  return day;
}

/** Local midnight (or the day's first instant) of the period start in `year`-`month` (1–12). */
function periodStartIn(year: number, month: number, anchorDay: number, zone: string): DateTime {
  const firstOfMonth = DateTime.fromObject({ year, month, day: 1 }, { zone });
  const day = Math.min(anchorDay, firstOfMonth.daysInMonth ?? 28);
  return DateTime.fromObject({ year, month, day }, { zone });
}

function monthAfter(year: number, month: number, months: number): { year: number; month: number } {
  const index = year * 12 + (month - 1) + months;
  return { year: Math.floor(index / 12), month: (index % 12) + 1 };
}

function toPeriod(start: DateTime, end: DateTime): BillingPeriod {
  return { startMs: start.toMillis(), endMs: end.toMillis(), start: start.toISO() as string, end: end.toISO() as string };
}

/**
 * The period that holds `instantMs`, for a customer in `timezone` with
 * `billingAnchor` (`YYYY-MM-DD`): start ≤ instant < end.
 * @throws RangeError for an unknown zone or a malformed anchor
 */
export function billingPeriodAt(instantMs: number, timezone: string, billingAnchor: string): BillingPeriod {
  // Rating asks for the same few periods for every usage change, and luxon's zone arithmetic
  // was a third of rating's time: reuse the last period computed for this zone and anchor.
  const cacheKey = `${timezone}|${billingAnchor}`;
  const cached = lastPeriods.get(cacheKey);
  if (cached !== undefined && cached.startMs <= instantMs && instantMs < cached.endMs) return cached;
  const period = computeBillingPeriodAt(instantMs, timezone, billingAnchor);
  if (lastPeriods.size >= maxCachedPeriods) lastPeriods.clear();
  lastPeriods.set(cacheKey, period);
  return period;
}

/** The last period computed per `timezone|billingAnchor` (periods are pure functions of both). */
const lastPeriods = new Map<string, BillingPeriod>();
const maxCachedPeriods = 10_000;

function computeBillingPeriodAt(instantMs: number, timezone: string, billingAnchor: string): BillingPeriod {
  const anchorDay = anchorDayOf(billingAnchor);
  const local = DateTime.fromMillis(instantMs, { zone: timezone });
  if (!local.isValid) throw new RangeError(`time zone ${JSON.stringify(timezone)} is not a valid IANA zone (${local.invalidExplanation ?? 'invalid'})`);
  let year: number = local.year;
  let month: number = local.month;
  let start = periodStartIn(year, month, anchorDay, timezone);
  if (local.toMillis() < start.toMillis()) {
    ({ year, month } = monthAfter(year, month, -1));
    start = periodStartIn(year, month, anchorDay, timezone);
  }
  const next = monthAfter(year, month, 1);
  return toPeriod(start, periodStartIn(next.year, next.month, anchorDay, timezone));
}

/** The period right after `period` for the same zone and anchor. */
export function nextBillingPeriod(period: BillingPeriod, timezone: string, billingAnchor: string): BillingPeriod {
  return billingPeriodAt(period.endMs, timezone, billingAnchor);
}

/** Minutes since local midnight of `instantMs` in `timezone` (0–1439; wall-clock time, so DST days repeat or skip some). */
export function localMinuteOfDay(instantMs: number, timezone: string): number {
  const local = DateTime.fromMillis(instantMs, { zone: timezone });
  return local.hour * 60 + local.minute;
}
