/**
 * Plans compiled once from config: each plan's charges indexed by the meter
 * they price, the meters some plan charges (only those send usage to rating),
 * and each meter's aggregation.
 */
import type { AggregationName, ChargeConfig, TallyConfig } from '../../schemas/config-types.js';

export interface RatingPlans {
  /** Plan key → meter slug → the plan's charges on that meter, in config order. */
  readonly byPlan: ReadonlyMap<string, ReadonlyMap<string, readonly ChargeConfig[]>>;
  /** Meters some plan charges. */
  readonly chargedMeters: ReadonlySet<string>;
  /** Aggregation of every meter. */
  readonly aggregations: ReadonlyMap<string, AggregationName>;
}

/**
 * True when the config declares plans. Without plans nothing can be priced,
 * so the rating half of the topology (and its `unrated` dead letters) is left
 * out: a metering-only deployment is not flooded with unrated usage.
 */
export function ratingEnabled(config: Pick<TallyConfig, 'plans'>): boolean {
  return config.plans.length > 0;
}

export function compileRatingPlans(config: Pick<TallyConfig, 'plans' | 'meters'>): RatingPlans {
  const byPlan = new Map<string, Map<string, ChargeConfig[]>>();
  const chargedMeters = new Set<string>();
  for (const plan of config.plans) {
    const byMeter = new Map<string, ChargeConfig[]>();
    for (const charge of plan.charges) {
      chargedMeters.add(charge.meter);
      const charges = byMeter.get(charge.meter);
      if (charges === undefined) byMeter.set(charge.meter, [charge]);
      else charges.push(charge);
    }
    byPlan.set(plan.key, byMeter);
  }
  return { byPlan, chargedMeters, aggregations: new Map(config.meters.map((meter) => [meter.slug, meter.aggregation])) };
}
