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
import { localMinuteOfDay } from '../billing-period.js';
import { priced, type PricedWork } from './arithmetic.js';
import { ratedWith, type RatedAmount } from './money.js';

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
  return priced(timeOfDay(charge, quantities, minorUnits));
}

export function timeOfDay(charge: ChargeConfig, quantities: readonly string[], minorUnits: number): PricedWork<RatedAmount> {
  return (arithmetic) => {
    const lines: BillingLine[] = [];
    const zero = arithmetic.of(0);
    (charge.intervals ?? []).forEach((interval, index) => {
      const quantity = arithmetic.of(quantities[index] ?? '0');
      if (arithmetic.compare(quantity, zero) === 0) return;
      const exact = arithmetic.times(quantity, arithmetic.of(interval.unitPrice));
      lines.push({
        label: `${interval.from}-${interval.to}`,
        from: interval.from,
        to: interval.to,
        quantity: arithmetic.text(quantity),
        unitPrice: interval.unitPrice,
        amount: arithmetic.text(arithmetic.roundHalfUp(exact, minorUnits)),
      });
    });
    return ratedWith(arithmetic, lines);
  };
}
