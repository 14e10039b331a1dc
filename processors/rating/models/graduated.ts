/**
 * graduated: each unit is priced in its own tier; a tier's flatFee is charged
 * once when any unit falls in it. One line per tier that holds units, each
 * rounded once. Tiers 0–10 at 10 + flat 2, 11–20 at 5 + flat 3: 12 units →
 * (10 × 10 + 2) + (2 × 5 + 3) = 115. A quantity ≤ 0 holds no unit: no line, 0.
 */
import type { BillingLine } from '../../../schemas/billing-detail.js';
import type { ChargeConfig } from '../../../schemas/config-types.js';
import { Decimal } from '../../decimal.js';
import { canonical, optional, rated, roundLine, type RatedAmount } from './money.js';
import { tierBounds, tierLineHead } from './tiers.js';

export function rateGraduated(charge: ChargeConfig, quantity: string, minorUnits: number): RatedAmount {
  const total = new Decimal(quantity);
  const lines: BillingLine[] = [];
  for (const bounds of tierBounds(charge.tiers ?? [])) {
    if (total.lte(bounds.from)) break;
    const top = bounds.to === undefined ? total : Decimal.min(total, bounds.to);
    const units = top.minus(bounds.from);
    const { unitPrice, flatFee } = bounds.tier;
    const exact = units.times(unitPrice).plus(flatFee ?? '0');
    lines.push({ ...tierLineHead(bounds), quantity: canonical(units), unitPrice, ...optional('flatFee', flatFee), amount: roundLine(exact, minorUnits) });
  }
  return rated(lines);
}
