/**
 * volume: the tier that holds the total prices every unit, plus that tier's
 * flatFee; one line. A tier holds totals in (from, to]; a total ≤ 0 is in no
 * tier: no line, 0 (no flat fee for no usage).
 */
import type { ChargeConfig } from '../../../schemas/config-types.js';
import { priced, type PricedWork } from './arithmetic.js';
import { optional, ratedWith, type RatedAmount } from './money.js';
import { tierBounds, tierLineHead } from './tiers.js';

export function rateVolume(charge: ChargeConfig, quantity: string, minorUnits: number): RatedAmount {
  return priced(volume(charge, quantity, minorUnits));
}

export function volume(charge: ChargeConfig, quantity: string, minorUnits: number): PricedWork<RatedAmount> {
  return (arithmetic) => {
    const total = arithmetic.of(quantity);
    if (arithmetic.compare(total, arithmetic.of(0)) <= 0) return ratedWith(arithmetic, []);
    const bounds = tierBounds(arithmetic, charge.tiers ?? []).find((b) => b.to === undefined || arithmetic.compare(total, b.to) <= 0);
    if (bounds === undefined) return ratedWith(arithmetic, []); // unreachable: config requires an open last tier
    const { unitPrice, flatFee } = bounds.tier;
    const exact = arithmetic.plus(arithmetic.times(total, arithmetic.of(unitPrice)), arithmetic.of(flatFee ?? '0'));
    return ratedWith(arithmetic, [
      {
        ...tierLineHead(arithmetic, bounds),
        quantity: arithmetic.text(total),
        unitPrice,
        ...optional('flatFee', flatFee),
        amount: arithmetic.text(arithmetic.roundHalfUp(exact, minorUnits)),
      },
    ]);
  };
}
