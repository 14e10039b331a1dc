/** per_unit: amount = flatFee + unitPrice × quantity (y = a + b·x), one line, rounded once. */
import type { ChargeConfig } from '../../../schemas/config-types.js';
import { priced, type PricedWork } from './arithmetic.js';
import { optional, ratedWith, type RatedAmount } from './money.js';

/** The share of a period a segment covers, in milliseconds between instants. */
export interface Proration {
  readonly segmentMs: number;
  readonly periodMs: number;
}

/** The whole period: the flat fee in full. */
export const wholePeriod: Proration = { segmentMs: 1, periodMs: 1 };

/**
 * Prices `quantity` (a decimal string, may be negative for a SUM that nets
 * below zero: the line is then a credit) with the charge's `unitPrice` and
 * optional `flatFee`, the fee prorated to `proration` (flatFee × segmentMs ÷
 * periodMs, exact: only the line is rounded, once).
 */
export function ratePerUnit(charge: ChargeConfig, quantity: string, minorUnits: number, proration: Proration = wholePeriod): RatedAmount {
  return priced(perUnit(charge, quantity, minorUnits, proration));
}

export function perUnit(charge: ChargeConfig, quantity: string, minorUnits: number, proration: Proration = wholePeriod): PricedWork<RatedAmount> {
  return (arithmetic) => {
    const unitPrice = charge.unitPrice ?? '0';
    const fee = arithmetic.share(arithmetic.of(charge.flatFee ?? '0'), proration.segmentMs, proration.periodMs);
    const units = arithmetic.of(quantity);
    const exact = arithmetic.plus(arithmetic.times(arithmetic.of(unitPrice), units), fee);
    return ratedWith(arithmetic, [
      { label: 'units', quantity: arithmetic.text(units), unitPrice, ...optional('flatFee', charge.flatFee), amount: arithmetic.text(arithmetic.roundHalfUp(exact, minorUnits)) },
    ]);
  };
}
