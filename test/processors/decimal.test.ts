import { describe, expect, it } from 'vitest';
import { addDecimals, canonicalDecimal, compareDecimals, Decimal, divideDecimals, parseNumericValue } from '../../processors/decimal.js';

describe('parseNumericValue', () => {
  it.each([
    [12, '12'],
    [0.1, '0.1'],
    [-1.5, '-1.5'],
    [1e21, '1000000000000000000000'],
    [-0, '0'],
    ['12', '12'],
    ['-0.5', '-0.5'],
    ['1e3', '1000'],
    ['1E-3', '0.001'],
    ['100.000', '100'],
    ['0.30', '0.3'],
    ['-0', '0'],
    ['123456789012345678901234567890.123456789', '123456789012345678901234567890.123456789'],
  ])('accepts %j as %s', (raw, canonical) => {
    expect(parseNumericValue(raw)).toEqual({ ok: true, value: canonical });
  });

  it.each([
    [Number.NaN],
    [Number.POSITIVE_INFINITY],
    [Number.NEGATIVE_INFINITY],
    [null],
    [undefined],
    ['abc'],
    [''],
    [' 1'],
    ['1 '],
    ['0x10'],
    ['NaN'],
    ['Infinity'],
    ['+1'],
    ['.5'],
    ['1.'],
    ['1e999999999'],
    ['1e-50'],
    [true],
    [false],
    [{}],
    [[1]],
  ])('refuses %j', (raw) => {
    const parsed = parseNumericValue(raw);
    expect(parsed.ok).toBe(false);
  });

  it('says what was wrong, quoting the value', () => {
    expect(parseNumericValue('abc')).toEqual({ ok: false, problem: expect.stringContaining('the string "abc", not a number') });
    expect(parseNumericValue(undefined)).toEqual({ ok: false, problem: 'is missing' });
    expect(parseNumericValue(null)).toEqual({ ok: false, problem: 'is null, not a number' });
  });
});

describe('decimal arithmetic', () => {
  it('sums 0.1 a thousand times to exactly "100"', () => {
    let sum = '0';
    for (let i = 0; i < 1000; i++) sum = addDecimals(sum, '0.1');
    expect(sum).toBe('100');
  });

  it('keeps many significant digits exact', () => {
    expect(addDecimals('123456789012345678901234567890', '0.000000000000000000000000000001')).toBe('123456789012345678901234567890.000000000000000000000000000001');
  });

  it('writes canonical strings: no exponent, no trailing zeros, no negative zero', () => {
    expect(canonicalDecimal(new Decimal('1e-7'))).toBe('0.0000001');
    expect(canonicalDecimal(new Decimal('2.50'))).toBe('2.5');
    expect(canonicalDecimal(new Decimal('-0'))).toBe('0');
    expect(addDecimals('1.5', '-1.5')).toBe('0');
  });

  it('adds like decimal.js on the scaled-integer fast path and around its limits', () => {
    // A deterministic spread of canonical operands: small and 15-digit values, fractions up to 15 places, signs.
    let seed = 7;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    const operand = (): string => {
      const digits = 1 + Math.floor(next() * 16);
      const scale = Math.floor(next() * (digits + 1));
      let text = '';
      for (let i = 0; i < digits; i++) text += String(Math.floor(next() * 10));
      const value = new Decimal(text).dividedBy(new Decimal(10).pow(scale)).times(next() < 0.3 ? -1 : 1);
      return canonicalDecimal(value);
    };
    const cases: [string, string][] = [['0', '12.25'], ['-0.25', '0.1'], ['999999999999999', '0.5'], ['99999999999999.9', '0.1'], ['0.000000000000001', '-0.000000000000001'], ['123.4', '-123.40001']];
    for (let i = 0; i < 20_000; i++) cases.push([operand(), operand()]);
    for (const [left, right] of cases) {
      expect(addDecimals(left, right), `${left} + ${right}`).toBe(canonicalDecimal(new Decimal(left).plus(right)));
    }
  });

  it('reads fractional JSON numbers and canonical numeric strings as decimal.js does', () => {
    for (const raw of [0.25, -12.5, 1234567.891, 0.1 + 0.2, 1e-7, 123456789012.5, '0.05', '-12.25', '99999999999999.9', '0.50', '1.0']) {
      expect(parseNumericValue(raw), String(raw)).toEqual({ ok: true, value: canonicalDecimal(new Decimal(String(raw))) });
    }
  });

  it('compares by value, not by text', () => {
    expect(compareDecimals('10', '9')).toBeGreaterThan(0);
    expect(compareDecimals('-1', '0.5')).toBeLessThan(0);
    expect(compareDecimals('2', '2')).toBe(0);
  });

  it('divides to 34 significant digits, exactly when the quotient terminates', () => {
    expect(divideDecimals('10', 4)).toBe('2.5');
    expect(divideDecimals('1', 3)).toBe('0.3333333333333333333333333333333333');
    expect(divideDecimals('2', 3)).toBe('0.6666666666666666666666666666666667');
  });
});
