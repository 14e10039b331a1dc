/**
 * graduated: each unit is priced in its own tier; a tier's flatFee is charged
 * once when any unit falls in it. One line per tier that holds units, each
 * rounded once. Tiers 0–10 at 10 + flat 2, 11–20 at 5 + flat 3: 12 units →
 * (10 × 10 + 2) + (2 × 5 + 3) = 115. A quantity ≤ 0 holds no unit: no line, 0.
 */
import type { BillingLine } from '../../../schemas/billing-detail.js';
import type { ChargeConfig } from '../../../schemas/config-types.js';
import { priced, type PricedWork } from './arithmetic.js';
import { optional, ratedWith, type RatedAmount } from './money.js';
import { tierBounds, tierLineHead } from './tiers.js';

export function rateGraduated(charge: ChargeConfig, quantity: string, minorUnits: number): RatedAmount {
  return priced(graduated(charge, quantity, minorUnits));
}

export function graduated(charge: ChargeConfig, quantity: string, minorUnits: number): PricedWork<RatedAmount> {
  return (arithmetic) => {
    const total = arithmetic.of(quantity);
    const lines: BillingLine[] = [];
    for (const bounds of tierBounds(arithmetic, charge.tiers ?? [])) {
      if (arithmetic.compare(total, bounds.from) <= 0) break;
      const top = bounds.to === undefined || arithmetic.compare(total, bounds.to) <= 0 ? total : bounds.to;
      const units = arithmetic.minus(top, bounds.from);
      const { unitPrice, flatFee } = bounds.tier;
      const exact = arithmetic.plus(arithmetic.times(units, arithmetic.of(unitPrice)), arithmetic.of(flatFee ?? '0'));
      lines.push({
        ...tierLineHead(arithmetic, bounds),
        quantity: arithmetic.text(units),
        unitPrice,
        ...optional('flatFee', flatFee),
        amount: arithmetic.text(arithmetic.roundHalfUp(exact, minorUnits)),
      });
    }
    return ratedWith(arithmetic, lines);
  };
}
