/**
 * The arithmetic the charge models price with, of two kinds: scaled safe
 * integers (scaled-decimal.ts: fast and exact while the values fit, which
 * prices and quantities nearly always do) and decimal.js (exact to 60
 * significant digits, for any value). A model is written once against
 * `Arithmetic`; `priced` runs it on scaled integers and, when a value does
 * not fit them, again on decimal.js — the same code, so the same lines and
 * the same amounts either way.
 */
import { canonicalDecimal, Decimal } from '../../decimal.js';
import { ceilDivideScaled, compareScaled, minusScaled, notScaled, plusScaled, roundHalfUpScaled, scaledInteger, scaledOf, scaledText, timesScaled, type Scaled } from '../../scaled-decimal.js';

export interface Arithmetic<N> {
  /** A decimal string (a price, a quantity) or a safe integer (a tier bound). */
  of(value: string | number): N;
  plus(left: N, right: N): N;
  minus(left: N, right: N): N;
  times(left: N, right: N): N;
  /** `value × part ÷ whole`: a flat fee prorated to a segment's share of its period. */
  share(value: N, part: number, whole: number): N;
  /** `value ÷ divisor` rounded up to a whole number (packages started); `divisor` a positive safe integer. */
  ceilDivide(value: N, divisor: number): N;
  /** Negative, zero or positive as `left` is below, equal to or above `right`. */
  compare(left: N, right: N): number;
  /** Rounded to `places` fraction digits, half-up (away from zero at exactly half). */
  roundHalfUp(value: N, places: number): N;
  /** Canonical text: plain notation, no trailing zeros, zero is "0". */
  text(value: N): string;
}

const scaledArithmetic: Arithmetic<Scaled> = {
  of: (value) => (typeof value === 'number' ? scaledInteger(value) : scaledOf(value)),
  plus: plusScaled,
  minus: minusScaled,
  times: timesScaled,
  share: (value, part, whole) => {
    // A share of the whole is the value itself; any other needs a division, which decimal.js does.
    if (part !== whole) throw notScaled;
    return value;
  },
  ceilDivide: ceilDivideScaled,
  compare: compareScaled,
  roundHalfUp: roundHalfUpScaled,
  text: scaledText,
};

const decimalArithmetic: Arithmetic<Decimal> = {
  of: (value) => new Decimal(value),
  plus: (left, right) => left.plus(right),
  minus: (left, right) => left.minus(right),
  times: (left, right) => left.times(right),
  share: (value, part, whole) => value.times(part).dividedBy(whole),
  ceilDivide: (value, divisor) => value.dividedBy(divisor).ceil(),
  compare: (left, right) => left.comparedTo(right),
  roundHalfUp: (value, places) => value.toDecimalPlaces(places, Decimal.ROUND_HALF_UP),
  text: canonicalDecimal,
};

/** A model's work, written against either arithmetic. */
export type PricedWork<T> = <N>(arithmetic: Arithmetic<N>) => T;

/** `work` on scaled integers; on decimal.js when a value does not fit them. */
export function priced<T>(work: PricedWork<T>): T {
  try {
    return work(scaledArithmetic);
  } catch (error) {
    if (error !== notScaled) throw error;
    return work(decimalArithmetic);
  }
}

/** `work` on decimal.js only: the reference the fast path must agree with (tests). */
export function pricedByDecimalJs<T>(work: PricedWork<T>): T {
  return work(decimalArithmetic);
}
