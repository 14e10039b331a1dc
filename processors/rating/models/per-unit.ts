/** per_unit: amount = flatFee + unitPrice × quantity (y = a + b·x), one line, rounded once. */
import type { ChargeConfig } from '../../../schemas/config-types.js';
import { Decimal } from '../../decimal.js';
import { canonical, optional, rated, roundLine, type RatedAmount } from './money.js';

/**
 * Prices `quantity` (a decimal string, may be negative for a SUM that nets
 * below zero: the line is then a credit) with the charge's `unitPrice` and
 * optional `flatFee`.
 */
export function ratePerUnit(charge: ChargeConfig, quantity: string, minorUnits: number): RatedAmount {
  const unitPrice = charge.unitPrice ?? '0';
  const exact = new Decimal(unitPrice).times(quantity).plus(charge.flatFee ?? '0');
  return rated([{ label: 'units', quantity: canonical(quantity), unitPrice, ...optional('flatFee', charge.flatFee), amount: roundLine(exact, minorUnits) }]);
}
