/**
 * A charge's usage over one period, built from meter deltas (see
 * MeterDelta): a running total for COUNT and SUM, one total per time-of-day
 * interval for time_of_day, and the merged period accumulator for MAX,
 * LATEST and UNIQUE_COUNT. Plain JSON: it lives in the rating store.
 */
import type { AggregationName, ChargeConfig } from '../../schemas/config-types.js';
import { aggregationFor } from '../aggregations/index.js';
import { addDecimals, canonicalDecimal, Decimal } from '../decimal.js';
import type { UsageChange } from './meter-delta.js';
import type { ChargeQuantity } from './models/index.js';

export type ChargeUsage =
  | { readonly total: string }
  | { readonly intervalTotals: readonly string[] }
  | { readonly acc: unknown };

export function initialChargeUsage(charge: ChargeConfig, aggregation: AggregationName): ChargeUsage {
  if (charge.model === 'time_of_day') return { intervalTotals: (charge.intervals ?? []).map(() => '0') };
  return initialPeriodUsage(aggregation);
}

/** No usage yet of a meter with `aggregation`, counted over a whole period (no time-of-day split). */
export function initialPeriodUsage(aggregation: AggregationName): ChargeUsage {
  if (aggregation === 'COUNT' || aggregation === 'SUM') return { total: '0' };
  return { acc: aggregationFor(aggregation).initial() };
}

/**
 * Applies one delta. `intervalIndex` is the time-of-day interval of the
 * delta's window (time_of_day charges only). A change that does not fit the
 * usage's shape (the meter's aggregation changed under a running period)
 * starts the period's usage over from that change.
 */
export function applyUsageChange(usage: ChargeUsage, change: UsageChange, aggregation: AggregationName, intervalIndex: number | undefined): ChargeUsage {
  if ('add' in change) {
    if ('intervalTotals' in usage && intervalIndex !== undefined) {
      return { intervalTotals: usage.intervalTotals.map((total, index) => (index === intervalIndex ? addDecimals(total, change.add) : total)) };
    }
    return { total: addDecimals('total' in usage ? usage.total : '0', change.add) };
  }
  const merge = aggregationFor(aggregation);
  return { acc: merge.merge('acc' in usage ? usage.acc : merge.initial(), change.merge) };
}

/** The period's quantity as a canonical decimal string (the detail's `quantity`). */
export function usageQuantity(usage: ChargeUsage, aggregation: AggregationName): string {
  if ('total' in usage) return usage.total;
  if ('intervalTotals' in usage) return canonicalDecimal(usage.intervalTotals.reduce((sum, total) => sum.plus(total), new Decimal(0)));
  return aggregationFor(aggregation).result(usage.acc);
}

/** What the charge model prices. */
export function modelQuantity(usage: ChargeUsage, aggregation: AggregationName): ChargeQuantity {
  return 'intervalTotals' in usage ? { intervalQuantities: usage.intervalTotals } : { quantity: usageQuantity(usage, aggregation) };
}
