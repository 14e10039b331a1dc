/**
 * package: ceil((quantity − freeUnits) / packageSize) × packagePrice, never
 * negative. One line whose quantity is the number of packages ("0" when the
 * usage fits in the free units).
 */
import type { ChargeConfig } from '../../../schemas/config-types.js';
import { priced, type PricedWork } from './arithmetic.js';
import { ratedWith, type RatedAmount } from './money.js';

export function ratePackage(charge: ChargeConfig, quantity: string, minorUnits: number): RatedAmount {
  return priced(packaged(charge, quantity, minorUnits));
}

export function packaged(charge: ChargeConfig, quantity: string, minorUnits: number): PricedWork<RatedAmount> {
  return (arithmetic) => {
    const packagePrice = charge.packagePrice ?? '0';
    const zero = arithmetic.of(0);
    const beyondFree = arithmetic.minus(arithmetic.of(quantity), arithmetic.of(charge.freeUnits ?? 0));
    const billable = arithmetic.compare(beyondFree, zero) < 0 ? zero : beyondFree;
    const packages = arithmetic.ceilDivide(billable, charge.packageSize ?? 1);
    const amount = arithmetic.roundHalfUp(arithmetic.times(packages, arithmetic.of(packagePrice)), minorUnits);
    return ratedWith(arithmetic, [{ label: 'packages', quantity: arithmetic.text(packages), unitPrice: packagePrice, amount: arithmetic.text(amount) }]);
  };
}
