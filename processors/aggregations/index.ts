/**
 * The meter aggregations (OpenMeter's set, exact), one per file, and the
 * lookup by name used by the meter aggregate processor and the query engine.
 */
import type { AggregationName } from '../../schemas/config-types.js';
import type { Aggregation } from './aggregation.js';
import { avgAggregation } from './avg.js';
import { countAggregation } from './count.js';
import { latestAggregation } from './latest.js';
import { maxAggregation } from './max.js';
import { minAggregation } from './min.js';
import { sumAggregation } from './sum.js';
import { uniqueCountAggregation } from './unique-count.js';

export type { Aggregation, MeterInput, MeterWindowValue } from './aggregation.js';
export type { AvgAcc } from './avg.js';
export type { LatestAcc, LatestEntry } from './latest.js';
export { avgAggregation, countAggregation, latestAggregation, maxAggregation, minAggregation, sumAggregation, uniqueCountAggregation };

const byName: Readonly<Record<AggregationName, Aggregation<unknown>>> = {
  SUM: sumAggregation as Aggregation<unknown>,
  COUNT: countAggregation as Aggregation<unknown>,
  UNIQUE_COUNT: uniqueCountAggregation as Aggregation<unknown>,
  AVG: avgAggregation as Aggregation<unknown>,
  MIN: minAggregation as Aggregation<unknown>,
  MAX: maxAggregation as Aggregation<unknown>,
  LATEST: latestAggregation as Aggregation<unknown>,
};

/** The aggregation for a meter's `aggregation` name. */
export function aggregationFor(name: AggregationName): Aggregation<unknown> {
  const aggregation = byName[name];
  if (aggregation === undefined) throw new RangeError(`unknown aggregation ${JSON.stringify(name)}: expected one of ${Object.keys(byName).join(', ')}`);
  return aggregation;
}

/** True when the aggregation reads a number at `valueProperty` (all but COUNT and UNIQUE_COUNT). */
export function needsNumericValue(name: AggregationName): boolean {
  return name !== 'COUNT' && name !== 'UNIQUE_COUNT';
}
