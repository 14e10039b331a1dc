/**
 * The charge models (docs/rating.md, "Charge models"), one per file, each a pure function
 * from a period's quantity to its lines and amount. Every line is rounded
 * once, half-up, to the currency's minor unit; the amount is the exact sum of
 * the rounded lines, so an invoice's lines always add up to its total.
 */
import type { ChargeConfig } from '../../../schemas/config-types.js';
import { rateGraduated } from './graduated.js';
import type { RatedAmount } from './money.js';
import { ratePackage } from './package.js';
import { ratePerUnit, wholePeriod, type Proration } from './per-unit.js';
import { rateTimeOfDay } from './time-of-day.js';
import { rateVolume } from './volume.js';

export { rateGraduated, ratePackage, ratePerUnit, rateTimeOfDay, rateVolume };
export { intervalIndexAt } from './time-of-day.js';
export { roundLine, type RatedAmount } from './money.js';
export { wholePeriod, type Proration } from './per-unit.js';

/** A period's usage as a model reads it: one quantity, or one per time-of-day interval. */
export type ChargeQuantity = { readonly quantity: string } | { readonly intervalQuantities: readonly string[] };

/**
 * Prices a charge: `time_of_day` reads `intervalQuantities`, every other model
 * `quantity`. `proration` prorates the per_unit flat fee (tier flat fees are
 * never prorated).
 */
export function rateCharge(charge: ChargeConfig, usage: ChargeQuantity, minorUnits: number, proration: Proration = wholePeriod): RatedAmount {
  if (charge.model === 'time_of_day') return rateTimeOfDay(charge, 'intervalQuantities' in usage ? usage.intervalQuantities : [], minorUnits);
  const quantity = 'quantity' in usage ? usage.quantity : '0';
  switch (charge.model) {
    case 'per_unit':
      return ratePerUnit(charge, quantity, minorUnits, proration);
    case 'graduated':
      return rateGraduated(charge, quantity, minorUnits);
    case 'volume':
      return rateVolume(charge, quantity, minorUnits);
    case 'package':
      return ratePackage(charge, quantity, minorUnits);
  }
}
