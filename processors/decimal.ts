/**
 * Exact decimal arithmetic for meter values, over decimal.js.
 *
 * - Arithmetic runs at {@link decimalPrecisionDigits} significant digits, so
 *   sums never round in practice (0.1 added a thousand times is exactly "100").
 * - Values are written as canonical strings: plain notation (no exponent), no
 *   trailing zeros, no "-0": "100", "0.3", "-1.5".
 * - A meter value is accepted when it is a finite JSON number, or a string
 *   that is a JSON number ("12", "-0.5", "1e3"); its magnitude must lie within
 *   1e-40 ≤ |v| < 1e40 (or be zero), so a value like "1e999999999" cannot
 *   blow up into a billion-digit string. JSON numbers are read through their
 *   shortest round-trip form (`String(n)`), which is exact up to ~15
 *   significant digits; producers that need more send numeric strings.
 */
import { Decimal as DecimalJs } from 'decimal.js';
import { minusScaled, notScaled, plusScaled, scaledOf, scaledText } from './scaled-decimal.js';

/** Significant digits kept by arithmetic. A sum rounds only if it needs more. */
export const decimalPrecisionDigits = 60;

/** Significant digits of a quotient (AVG): IEEE decimal128's 34. */
export const quotientSignificantDigits = 34;

/** Accepted values have a decimal exponent (of their leading digit) in [-40, 39]. */
const minExponent = -40;
const maxExponent = 39;

/** A Decimal constructor private to Tally: high precision, never exponent notation. */
export const Decimal = DecimalJs.clone({
  precision: decimalPrecisionDigits,
  rounding: DecimalJs.ROUND_HALF_EVEN,
  toExpNeg: -9e15,
  toExpPos: 9e15,
});
export type Decimal = InstanceType<typeof Decimal>;

/** The JSON number grammar (RFC 8259), which is also what a numeric string must match. */
const jsonNumberPattern = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** `problem` reads after the value's name: "is missing", "is null, not a number". */
export type NumericParse = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly problem: string };

/**
 * Integers of at most 15 digits: their sums and comparisons are exact in
 * doubles, so the hot path skips decimal.js for them. Canonical inputs only
 * (no leading zeros), which is what stored values and validated meter values are.
 */
const smallInteger = /^-?\d{1,15}$/;
/** A canonical integer of at most 15 digits as an input string: no leading zero, no "-0". */
const smallCanonicalInteger = /^(0|-?[1-9]\d{0,14})$/;
/** A plain decimal of at most 15 digits in all ("12.5", "-0.25"), not yet known to be canonical. */
const smallPlainDecimal = /^-?(?=[\d.]{1,16}$)\d+(?:\.\d+)?$/;
/** A canonical plain decimal with a fraction: no leading zero (but "0."), no trailing zero, not "-0". */
const smallCanonicalDecimal = /^-?(?:0|[1-9]\d*)\.\d*[1-9]$/;

/** Canonical string of a decimal: plain notation, no trailing zeros, zero is "0". */
export function canonicalDecimal(value: Decimal): string {
  return value.isZero() ? '0' : value.toFixed();
}

/** Parses a string already known to be canonical or valid (stored accumulators). */
export function toDecimal(value: string): Decimal {
  return new Decimal(value);
}

function describe(raw: unknown): string {
  if (typeof raw === 'string') return `the string ${JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw)}`;
  if (raw === null) return 'null';
  if (Array.isArray(raw)) return 'an array';
  return typeof raw === 'object' ? 'an object' : `${typeof raw} ${String(raw)}`;
}

function checkedCanonical(text: string, raw: unknown): NumericParse {
  const value = new Decimal(text);
  if (!value.isZero() && (value.e < minExponent || value.e > maxExponent)) {
    return { ok: false, problem: `is ${describe(raw)}, out of range (a value must be zero or between 1e-40 and 1e40 in magnitude)` };
  }
  return { ok: true, value: canonicalDecimal(value) };
}

/**
 * Validates a meter value and returns its canonical decimal string. Accepts
 * finite JSON numbers and JSON-number strings; refuses everything else
 * (NaN, ±Infinity, null, "abc", "", " 1", "0x10", booleans, objects, arrays).
 */
export function parseNumericValue(raw: unknown): NumericParse {
  if (raw === undefined) return { ok: false, problem: 'is missing' };
  if (typeof raw === 'number') {
    // Fast path: a safe integer's decimal string is already canonical (and -0 prints "0").
    if (Number.isSafeInteger(raw)) return { ok: true, value: String(raw) };
    if (!Number.isFinite(raw)) return { ok: false, problem: `is ${describe(raw)}, not a finite number` };
    // A double's shortest form in plain notation ("0.25", "-12.5") has no trailing zeros: it is canonical.
    const text = String(raw);
    if (smallPlainDecimal.test(text)) return { ok: true, value: text };
    return checkedCanonical(text, raw);
  }
  if (typeof raw === 'string') {
    if (smallCanonicalInteger.test(raw) || (smallCanonicalDecimal.test(raw) && smallPlainDecimal.test(raw))) return { ok: true, value: raw };
    if (!jsonNumberPattern.test(raw)) return { ok: false, problem: `is ${describe(raw)}, not a number (write it as a JSON number, e.g. "12", "-0.5" or "1e3")` };
    return checkedCanonical(raw, raw);
  }
  return { ok: false, problem: `is ${describe(raw)}, not a number` };
}

/** Compares two canonical decimal strings: negative, zero or positive. */
export function compareDecimals(left: string, right: string): number {
  if (left === right) return 0;
  if (smallInteger.test(left) && smallInteger.test(right)) return Number(left) - Number(right);
  return new Decimal(left).comparedTo(right);
}

/** Exact sum of two decimal strings, canonical. */
export function addDecimals(left: string, right: string): string {
  // Fast path: integers of at most 15 digits add exactly as doubles (the sum stays below 2^53).
  if (smallInteger.test(left) && smallInteger.test(right)) return String(Number(left) + Number(right));
  return onScaledIntegers(
    () => scaledText(plusScaled(scaledOf(left), scaledOf(right))),
    () => canonicalDecimal(left === '0' ? new Decimal(right) : new Decimal(left).plus(right)),
  );
}

/** Exact difference `left − right` of two decimal strings, canonical. */
export function subtractDecimals(left: string, right: string): string {
  return onScaledIntegers(
    () => scaledText(minusScaled(scaledOf(left), scaledOf(right))),
    () => canonicalDecimal(new Decimal(left).minus(right)),
  );
}

/** `scaled()` (scaled-decimal.ts), or `exact()` on decimal.js when a value does not fit scaled integers. */
function onScaledIntegers(scaled: () => string, exact: () => string): string {
  try {
    return scaled();
  } catch (error) {
    if (error !== notScaled) throw error;
    return exact();
  }
}

/** `dividend / divisor`, rounded half-even to {@link quotientSignificantDigits} significant digits, canonical. */
export function divideDecimals(dividend: string, divisor: string | number): string {
  return canonicalDecimal(new Decimal(dividend).dividedBy(divisor).toSignificantDigits(quotientSignificantDigits, Decimal.ROUND_HALF_EVEN));
}
