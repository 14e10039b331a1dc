import { describe, expect, it } from 'vitest';
import { currencyCodes, currencyMinorUnits } from '../../schemas/index.js';

describe('currencyMinorUnits', () => {
  it('gives ISO 4217 minor units: USD 2, JPY 0, KWD 3, CLF 4', () => {
    expect(currencyMinorUnits('USD')).toBe(2);
    expect(currencyMinorUnits('EUR')).toBe(2);
    expect(currencyMinorUnits('JPY')).toBe(0);
    expect(currencyMinorUnits('KRW')).toBe(0);
    expect(currencyMinorUnits('KWD')).toBe(3);
    expect(currencyMinorUnits('BHD')).toBe(3);
    expect(currencyMinorUnits('CLF')).toBe(4);
  });

  it('follows ISO 4217 where CLDR display digits differ (HUF, IDR, IQD)', () => {
    expect(currencyMinorUnits('HUF')).toBe(2);
    expect(currencyMinorUnits('IDR')).toBe(2);
    expect(currencyMinorUnits('IQD')).toBe(3);
  });

  it('knows nothing of unknown codes, lower case, or codes without a minor unit', () => {
    for (const code of ['ABC', 'usd', 'XAU', 'XXX', 'XTS', '']) expect(currencyMinorUnits(code)).toBeUndefined();
  });

  it('lists every code once, sorted, each three upper-case letters', () => {
    expect(currencyCodes.length).toBeGreaterThan(150);
    expect(new Set(currencyCodes).size).toBe(currencyCodes.length);
    expect([...currencyCodes].sort()).toEqual(currencyCodes);
    for (const code of currencyCodes) expect(code).toMatch(/^[A-Z]{3}$/);
  });
});
