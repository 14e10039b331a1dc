/**
 * time_of_day: unit prices by local time-of-day intervals. Usage is
 * attributed to an interval by its event time in the customer's zone
 * (`intervalIndexAt`); each interval's quantity is priced on its own line,
 * rounded once. Intervals with no usage have no line.
 *
 * Rating receives usage per meter window, so a window is attributed by its
 * start: exact whenever interval boundaries fall on window boundaries in the
 * customer's zone (the config checks them against `windows.size`; with the
 * default 1-minute windows every zone's boundaries do).
 */
import type { BillingLine } from '../../../schemas/billing-detail.js';
import type { ChargeConfig, TimeOfDayInterval } from '../../../schemas/config-types.js';
import { Decimal } from '../../decimal.js';
import { localMinuteOfDay } from '../billing-period.js';
import { canonical, rated, roundLine, type RatedAmount } from './money.js';

const minutesOf = (time: string): number => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));

/**
 * Index of the interval holding `instantMs`'s local time of day in
 * `timezone` (`from` inclusive, `to` exclusive). Falls back to the last
 * interval for a time no interval covers (the config forbids gaps).
 */
export function intervalIndexAt(intervals: readonly TimeOfDayInterval[], instantMs: number, timezone: string): number {
  const minute = localMinuteOfDay(instantMs, timezone);
  const index = intervals.findIndex((interval) => minute >= minutesOf(interval.from) && minute < minutesOf(interval.to));
  return index >= 0 ? index : intervals.length - 1;
}

/** Prices `quantities[i]` (decimal strings, one per interval of the charge) at interval i's unit price. */
export function rateTimeOfDay(charge: ChargeConfig, quantities: readonly string[], minorUnits: number): RatedAmount {
  const lines: BillingLine[] = [];
  (charge.intervals ?? []).forEach((interval, index) => {
    const quantity = quantities[index] ?? '0';
    if (new Decimal(quantity).isZero()) return;
    const exact = new Decimal(quantity).times(interval.unitPrice);
    lines.push({
      label: `${interval.from}-${interval.to}`,
      from: interval.from,
      to: interval.to,
      quantity: canonical(quantity),
      unitPrice: interval.unitPrice,
      amount: roundLine(exact, minorUnits),
    });
  });
  return rated(lines);
}
