/**
 * volume: the tier that holds the total prices every unit, plus that tier's
 * flatFee; one line. A tier holds totals in (from, to]; a total ≤ 0 is in no
 * tier: no line, 0 (no flat fee for no usage).
 */
import type { ChargeConfig } from '../../../schemas/config-types.js';
import { Decimal } from '../../decimal.js';
import { canonical, optional, rated, roundLine, type RatedAmount } from './money.js';
import { tierBounds, tierLineHead } from './tiers.js';

export function rateVolume(charge: ChargeConfig, quantity: string, minorUnits: number): RatedAmount {
  const total = new Decimal(quantity);
  if (total.lte(0)) return rated([]);
  const bounds = tierBounds(charge.tiers ?? []).find((b) => b.to === undefined || total.lte(b.to));
  if (bounds === undefined) return rated([]); // unreachable: config requires an open last tier
  const { unitPrice, flatFee } = bounds.tier;
  const exact = total.times(unitPrice).plus(flatFee ?? '0');
  return rated([{ ...tierLineHead(bounds), quantity: canonical(total), unitPrice, ...optional('flatFee', flatFee), amount: roundLine(exact, minorUnits) }]);
}
