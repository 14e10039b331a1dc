import { describe, expect, it } from 'vitest';
import type { ChargeConfig, Tier } from '../../schemas/config-types.js';
import { intervalIndexAt, rateCharge, rateGraduated, ratePackage, ratePerUnit, rateTimeOfDay, rateVolume, roundLine } from '../../processors/rating/index.js';
import { Decimal } from '../../processors/decimal.js';

const USD = 2;
const JPY = 0;

const tiered = (model: 'graduated' | 'volume', tiers: Tier[]): ChargeConfig => ({ key: 'c', meter: 'm', model, tiers });
const perUnit = (unitPrice: string, flatFee?: string): ChargeConfig => ({ key: 'c', meter: 'm', model: 'per_unit', unitPrice, ...(flatFee === undefined ? {} : { flatFee }) });

describe('per_unit', () => {
  it('charges flatFee + unitPrice × quantity on one line, rounded once', () => {
    expect(ratePerUnit(perUnit('0.001', '5'), '1234', USD)).toEqual({
      amount: '6.23',
      lines: [{ label: 'units', quantity: '1234', unitPrice: '0.001', flatFee: '5', amount: '6.23' }],
    });
  });

  it('omits the flat fee when the charge has none and writes quantities canonically', () => {
    expect(ratePerUnit(perUnit('2'), '1.50', USD)).toEqual({ amount: '3', lines: [{ label: 'units', quantity: '1.5', unitPrice: '2', amount: '3' }] });
  });

  it('credits a negative quantity (a SUM that netted below zero), rounding away from zero at half', () => {
    expect(ratePerUnit(perUnit('0.001'), '-5', USD).amount).toBe('-0.01');
  });
});

describe('graduated', () => {
  const designTiers = tiered('graduated', [{ upTo: 10, unitPrice: '10', flatFee: '2' }, { upTo: 20, unitPrice: '5', flatFee: '3' }, { unitPrice: '1' }]);

  it('prices each unit in its own tier, each tier flat fee once: 12 units → 115 (docs/rating.md)', () => {
    expect(rateGraduated(designTiers, '12', USD)).toEqual({
      amount: '115',
      lines: [
        { label: 'tier 1', from: '0', to: '10', quantity: '10', unitPrice: '10', flatFee: '2', amount: '102' },
        { label: 'tier 2', from: '10', to: '20', quantity: '2', unitPrice: '5', flatFee: '3', amount: '13' },
      ],
    });
  });

  it('charges a tier flat fee only when a unit falls in the tier', () => {
    expect(rateGraduated(designTiers, '10', USD).amount).toBe('102');
    expect(rateGraduated(designTiers, '10.5', USD).amount).toBe('107.5'); // 102 + 0.5 × 5 + 3
    expect(rateGraduated(designTiers, '25', USD).lines.map((line) => [line.label, line.quantity, line.to])).toEqual([
      ['tier 1', '10', '10'],
      ['tier 2', '10', '20'],
      ['tier 3', '5', undefined],
    ]);
  });

  it('prices no usage at zero with no lines (no flat fee without a unit)', () => {
    expect(rateGraduated(designTiers, '0', USD)).toEqual({ amount: '0', lines: [] });
  });

  // Lago, "Graduated" charge model (getlago.com/docs/guide/plans/charges/charge-models/graduated):
  // $1 per unit for the first 100 units, $0.50 for the next 100, $0.10 for any additional unit.
  it("matches Lago's published graduated example: 250 calls → 100 + 50 + 5 = 155", () => {
    const lago = tiered('graduated', [{ upTo: 100, unitPrice: '1' }, { upTo: 200, unitPrice: '0.50' }, { unitPrice: '0.10' }]);
    expect(rateGraduated(lago, '250', USD).lines.map((line) => line.amount)).toEqual(['100', '50', '5']);
    expect(rateGraduated(lago, '250', USD).amount).toBe('155');
  });

  it('rounds each line once, and the amount is the sum of the rounded lines (not the rounded sum)', () => {
    const tiny = tiered('graduated', [{ upTo: 1, unitPrice: '0.004' }, { unitPrice: '0.004' }]);
    // Exact 0.004 + 0.004 = 0.008 would round to 0.01 once; each line rounds to 0.
    expect(rateGraduated(tiny, '2', USD)).toMatchObject({ amount: '0', lines: [{ amount: '0' }, { amount: '0' }] });
  });
});

describe('volume', () => {
  // Lago, "Volume" charge model (getlago.com/docs/guide/plans/charges/charge-models/volume):
  // 0–10,000 at $0.0010, 10,001–50,000 at $0.0008, 50,001–100,000 at $0.0006, 100,001+ at $0.0004, each + $10.
  const lago = tiered('volume', [
    { upTo: 10_000, unitPrice: '0.0010', flatFee: '10' },
    { upTo: 50_000, unitPrice: '0.0008', flatFee: '10' },
    { upTo: 100_000, unitPrice: '0.0006', flatFee: '10' },
    { unitPrice: '0.0004', flatFee: '10' },
  ]);

  it("matches Lago's published volume example: 65,000 calls → 65,000 × 0.0006 + 10 = 49", () => {
    expect(rateVolume(lago, '65000', USD)).toEqual({
      amount: '49',
      lines: [{ label: 'tier 3', from: '50000', to: '100000', quantity: '65000', unitPrice: '0.0006', flatFee: '10', amount: '49' }],
    });
  });

  it('puts a total equal to a bound in the lower tier (upTo is inclusive)', () => {
    expect(rateVolume(lago, '10000', USD).lines[0]).toMatchObject({ label: 'tier 1', amount: '20' });
    expect(rateVolume(lago, '10001', USD).lines[0]).toMatchObject({ label: 'tier 2', amount: '18' }); // 8.0008 + 10 → 18.00
    expect(rateVolume(lago, '200000', USD).lines[0]).toMatchObject({ label: 'tier 4', amount: '90' });
  });

  it('prices no usage at zero with no lines', () => {
    expect(rateVolume(lago, '0', USD)).toEqual({ amount: '0', lines: [] });
  });
});

describe('package', () => {
  // Lago, "Package" charge model (getlago.com/docs/guide/plans/charges/charge-models/package):
  // $5 per 100 units, first 100 units free: 201 units → $0 + $5 + $5 = $10.
  const lago: ChargeConfig = { key: 'c', meter: 'm', model: 'package', packageSize: 100, packagePrice: '5', freeUnits: 100 };

  it("matches Lago's published package example: 201 units → 10", () => {
    expect(ratePackage(lago, '201', USD)).toEqual({ amount: '10', lines: [{ label: 'packages', quantity: '2', unitPrice: '5', amount: '10' }] });
  });

  it('counts started packages and is never negative', () => {
    expect(ratePackage(lago, '200', USD).amount).toBe('5');
    expect(ratePackage(lago, '100', USD).lines[0]).toMatchObject({ quantity: '0', amount: '0' });
    expect(ratePackage(lago, '40', USD).lines[0]).toMatchObject({ quantity: '0', amount: '0' });
    expect(ratePackage({ ...lago, freeUnits: 0 }, '0.5', USD).amount).toBe('5');
  });
});

describe('time_of_day', () => {
  const compute: ChargeConfig = {
    key: 'compute',
    meter: 'cpu',
    model: 'time_of_day',
    intervals: [
      { from: '00:00', to: '06:00', unitPrice: '0.02' },
      { from: '06:00', to: '24:00', unitPrice: '0.03' },
    ],
  };

  it('prices each interval quantity at its own price, one line per interval with usage', () => {
    expect(rateTimeOfDay(compute, ['100', '200'], USD)).toEqual({
      amount: '8',
      lines: [
        { label: '00:00-06:00', from: '00:00', to: '06:00', quantity: '100', unitPrice: '0.02', amount: '2' },
        { label: '06:00-24:00', from: '06:00', to: '24:00', quantity: '200', unitPrice: '0.03', amount: '6' },
      ],
    });
    expect(rateCharge(compute, { intervalQuantities: ['0', '7'] }, USD).lines.map((line) => line.label)).toEqual(['06:00-24:00']);
  });

  it('attributes an instant by local time in the customer zone (Asia/Kolkata, +05:30)', () => {
    const intervals = compute.intervals ?? [];
    expect(intervalIndexAt(intervals, Date.parse('2024-03-01T00:29:00Z'), 'Asia/Kolkata')).toBe(0); // 05:59 IST
    expect(intervalIndexAt(intervals, Date.parse('2024-03-01T00:30:00Z'), 'Asia/Kolkata')).toBe(1); // 06:00 IST
    expect(intervalIndexAt(intervals, Date.parse('2024-03-01T00:30:00Z'), 'UTC')).toBe(0); // the naive UTC reading differs
    expect(intervalIndexAt(intervals, Date.parse('2024-02-29T18:29:00Z'), 'Asia/Kolkata')).toBe(1); // 23:59 IST
    expect(intervalIndexAt(intervals, Date.parse('2024-02-29T18:30:00Z'), 'Asia/Kolkata')).toBe(0); // 00:00 IST
  });
});

describe('rounding', () => {
  it('rounds half-up at .xx5 where binary floats would round down', () => {
    expect(1.005 .toFixed(2)).toBe('1.00'); // the float trap this avoids
    expect(roundLine(new Decimal('1.005'), USD)).toBe('1.01');
    expect(roundLine(new Decimal('2.675'), USD)).toBe('2.68');
    expect(roundLine(new Decimal('0.125'), USD)).toBe('0.13'); // half-even would give 0.12
    expect(roundLine(new Decimal('0.124999'), USD)).toBe('0.12');
    expect(ratePerUnit(perUnit('0.001'), '5', USD).amount).toBe('0.01');
  });

  it('rounds JPY to whole yen, half-up', () => {
    expect(ratePerUnit(perUnit('0.5'), '3', JPY).amount).toBe('2'); // 1.5 → 2
    expect(ratePerUnit(perUnit('0.5'), '5', JPY).amount).toBe('3'); // 2.5 → 3, not 2
    expect(ratePerUnit(perUnit('0.4'), '3', JPY).amount).toBe('1'); // 1.2 → 1
    expect(ratePerUnit(perUnit('1.23456'), '1000', JPY).amount).toBe('1235'); // 1234.56
  });

  it('keeps three decimals for KWD', () => {
    expect(ratePerUnit(perUnit('0.0015'), '1', 3).amount).toBe('0.002');
  });
});
