/** per_unit: amount = flatFee + unitPrice × quantity (y = a + b·x), one line, rounded once. */
import type { ChargeConfig } from '../../../schemas/config-types.js';
import { Decimal } from '../../decimal.js';
import { canonical, optional, rated, roundLine, type RatedAmount } from './money.js';

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
  const unitPrice = charge.unitPrice ?? '0';
  const fee = new Decimal(charge.flatFee ?? '0').times(proration.segmentMs).dividedBy(proration.periodMs);
  const exact = new Decimal(unitPrice).times(quantity).plus(fee);
  return rated([{ label: 'units', quantity: canonical(quantity), unitPrice, ...optional('flatFee', charge.flatFee), amount: roundLine(exact, minorUnits) }]);
}
