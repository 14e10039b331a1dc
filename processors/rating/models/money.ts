/**
 * Money for the charge models: exact decimals (scaled safe integers where
 * they fit, decimal.js where they do not: arithmetic.ts), and
 * the one rounding each billing line gets — half-up (away from zero at
 * exactly half) to the currency's minor unit (USD 2, JPY 0).
 *
 * Strings are canonical, like meter values: plain notation, no trailing
 * zeros, zero is "0" ("115", "0.35", "1235"). A consumer that prints
 * invoices pads to the currency's digits itself.
 */
import type { BillingLine } from '../../../schemas/billing-detail.js';
import { canonicalDecimal, Decimal } from '../../decimal.js';
import { priced, type Arithmetic } from './arithmetic.js';

/** A line's exact value rounded once, half-up, to `minorUnits` decimal places; canonical. */
export function roundLine(value: Decimal, minorUnits: number): string {
  return canonicalDecimal(value.toDecimalPlaces(minorUnits, Decimal.ROUND_HALF_UP));
}

/** Sum of already rounded line amounts: exact, so lines always add up to the total. */
export function sumLines(lines: readonly Pick<BillingLine, 'amount'>[]): string {
  return priced((arithmetic) => sumLinesWith(arithmetic, lines));
}

function sumLinesWith<N>(arithmetic: Arithmetic<N>, lines: readonly Pick<BillingLine, 'amount'>[]): string {
  let total = arithmetic.of(0);
  for (const line of lines) total = arithmetic.plus(total, arithmetic.of(line.amount));
  return arithmetic.text(total);
}

/** What a charge model returns: the lines (each rounded once) and their exact sum. */
export interface RatedAmount {
  /** Sum of the lines' amounts (never rounded again). */
  readonly amount: string;
  readonly lines: readonly BillingLine[];
}

/** The lines and their sum, made with the model's own arithmetic. */
export function ratedWith<N>(arithmetic: Arithmetic<N>, lines: readonly BillingLine[]): RatedAmount {
  return { amount: sumLinesWith(arithmetic, lines), lines };
}

/** `{ [name]: value }` when value is defined, else `{}`: optional fields stay absent, never `undefined`. */
export function optional<K extends string>(name: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [name]: value }) as { [P in K]?: string };
}
