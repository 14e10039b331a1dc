/**
 * Exact decimal arithmetic on safe integers: a decimal is held as an integer
 * and a scale (its value is `digits × 10^-scale`), and every operation is
 * exact in doubles as long as each integer it makes stays a safe integer.
 * When one would not, the operation throws {@link notScaled} instead of
 * rounding: the caller then does the work again with decimal.js
 * (decimal.ts). So a result from here is always the exact one — the same as
 * decimal.js gives, whose 60 significant digits hold any such result.
 *
 * It is the fast path of the money and meter arithmetic: prices, tier
 * bounds and usage quantities of at most 15 or 16 digits, which is nearly
 * all of them, without decimal.js's digit arrays and their garbage.
 */

export interface Scaled {
  /** The decimal's digits as an integer, sign included. */
  readonly digits: number;
  /** Fraction digits: the value is `digits / 10^scale`. */
  readonly scale: number;
}

/**
 * Thrown when an operand or a result does not fit: not an error, the signal
 * to take decimal.js. A symbol, thrown as is (no stack is captured).
 */
export const notScaled: unique symbol = Symbol('not representable as a scaled safe integer');

const powersOfTen: readonly number[] = Array.from({ length: 16 }, (_, power) => 10 ** power);

/** The largest shift (10^15) an operand is ever scaled up by. */
const maxShift = powersOfTen.length - 1;

const plainDecimal = /^-?\d+(?:\.\d+)?$/;

/** A plain decimal string ("12", "-0.25", "0.0001"); throws `notScaled` for exponent notation or too many digits. */
export function scaledOf(text: string): Scaled {
  if (!plainDecimal.test(text)) throw notScaled;
  const point = text.indexOf('.');
  const digits = Number(point < 0 ? text : text.slice(0, point) + text.slice(point + 1));
  // A digit string past 2^53 reads as a double of 2^53 or more: never a safe integer.
  if (!Number.isSafeInteger(digits)) throw notScaled;
  return { digits, scale: point < 0 ? 0 : text.length - point - 1 };
}

/** A safe integer as a scaled decimal. */
export function scaledInteger(value: number): Scaled {
  if (!Number.isSafeInteger(value)) throw notScaled;
  return { digits: value, scale: 0 };
}

function safe(value: number): number {
  if (!Number.isSafeInteger(value)) throw notScaled;
  return value;
}

/** `value`'s digits written with `scale` fraction digits (`scale` ≥ its own). */
function digitsAt(value: Scaled, scale: number): number {
  const shift = scale - value.scale;
  if (shift === 0) return value.digits;
  if (shift > maxShift) throw notScaled;
  return safe(value.digits * (powersOfTen[shift] as number));
}

export function plusScaled(left: Scaled, right: Scaled): Scaled {
  const scale = Math.max(left.scale, right.scale);
  return { digits: safe(digitsAt(left, scale) + digitsAt(right, scale)), scale };
}

export function minusScaled(left: Scaled, right: Scaled): Scaled {
  const scale = Math.max(left.scale, right.scale);
  return { digits: safe(digitsAt(left, scale) - digitsAt(right, scale)), scale };
}

export function timesScaled(left: Scaled, right: Scaled): Scaled {
  return { digits: safe(left.digits * right.digits), scale: left.scale + right.scale };
}

/** Negative, zero or positive as `left` is below, equal to or above `right`. */
export function compareScaled(left: Scaled, right: Scaled): number {
  const scale = Math.max(left.scale, right.scale);
  const a = digitsAt(left, scale);
  const b = digitsAt(right, scale);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `value ÷ divisor` rounded up (toward +∞) to a whole number; `divisor` a positive safe integer. */
export function ceilDivideScaled(value: Scaled, divisor: number): Scaled {
  if (value.scale > maxShift) throw notScaled;
  // value ÷ divisor = digits ÷ (divisor × 10^scale): one integer division, exact below 2^53.
  const whole = safe(divisor * (powersOfTen[value.scale] as number));
  const remainder = value.digits % whole;
  const quotient = (value.digits - remainder) / whole;
  // Truncation went toward zero: up already for a negative value, one more for a positive remainder.
  return { digits: remainder > 0 ? quotient + 1 : quotient, scale: 0 };
}

/** Rounded to `places` fraction digits, half-up (away from zero at exactly half). */
export function roundHalfUpScaled(value: Scaled, places: number): Scaled {
  const shift = value.scale - places;
  if (shift <= 0) return value;
  if (shift > maxShift) throw notScaled;
  const divisor = powersOfTen[shift] as number;
  // Remainder and quotient of integers below 2^53: both exact.
  const remainder = value.digits % divisor;
  let quotient = (value.digits - remainder) / divisor;
  if (2 * Math.abs(remainder) >= divisor) quotient += value.digits < 0 ? -1 : 1;
  return { digits: quotient, scale: places };
}

/** Canonical text: plain notation, no trailing zeros, zero is "0" (never "-0"). */
export function scaledText(value: Scaled): string {
  return formatScaled(value.digits, value.scale);
}

/** `digits / 10^scale` in canonical form: plain, no trailing zeros, no "-0". */
export function formatScaled(digits: number, scale: number): string {
  if (digits === 0) return '0';
  if (scale === 0) return String(digits);
  const negative = digits < 0;
  let text = String(negative ? -digits : digits);
  if (text.length <= scale) text = '0'.repeat(scale - text.length + 1) + text;
  let end = text.length;
  const point = text.length - scale;
  while (end > point && text.charCodeAt(end - 1) === 0x30) end--;
  const plain = end === point ? text.slice(0, point) : `${text.slice(0, point)}.${text.slice(point, end)}`;
  return negative ? `-${plain}` : plain;
}
