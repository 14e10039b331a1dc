/**
 * package: ceil((quantity − freeUnits) / packageSize) × packagePrice, never
 * negative. One line whose quantity is the number of packages ("0" when the
 * usage fits in the free units).
 */
import type { ChargeConfig } from '../../../schemas/config-types.js';
import { Decimal } from '../../decimal.js';
import { canonical, rated, roundLine, type RatedAmount } from './money.js';

export function ratePackage(charge: ChargeConfig, quantity: string, minorUnits: number): RatedAmount {
  const packageSize = charge.packageSize ?? 1;
  const packagePrice = charge.packagePrice ?? '0';
  const billable = Decimal.max(0, new Decimal(quantity).minus(charge.freeUnits ?? 0));
  const packages = billable.dividedBy(packageSize).ceil();
  return rated([{ label: 'packages', quantity: canonical(packages), unitPrice: packagePrice, amount: roundLine(packages.times(packagePrice), minorUnits) }]);
}
