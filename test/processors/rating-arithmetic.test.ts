import { describe, expect, it } from 'vitest';
import type { ChargeConfig, Tier } from '../../schemas/config-types.js';
import { Decimal, subtractDecimals } from '../../processors/decimal.js';
import { priced, pricedByDecimalJs, type PricedWork } from '../../processors/rating/models/arithmetic.js';
import { graduated } from '../../processors/rating/models/graduated.js';
import { packaged } from '../../processors/rating/models/package.js';
import { sumLines } from '../../processors/rating/models/money.js';
import { perUnit } from '../../processors/rating/models/per-unit.js';
import { timeOfDay } from '../../processors/rating/models/time-of-day.js';
import { volume } from '../../processors/rating/models/volume.js';
import { seededRandom } from '../fixtures/seeded-random.js';
import { ceilDivideScaled, formatScaled, notScaled, plusScaled, roundHalfUpScaled, scaledOf, scaledText, timesScaled } from '../../processors/scaled-decimal.js';

/** Decimal strings of the shapes rating meets, from "0" to far past what a double holds exactly. */
function decimalText(random: () => number, allowNegative: boolean): string {
  const shape = random();
  const sign = allowNegative && random() < 0.2 ? '-' : '';
  const digits = (count: number): string => Array.from({ length: count }, (_, index) => String(Math.floor(random() * 10) || (index === 0 ? 1 : 0))).join('');
  if (shape < 0.1) return '0';
  if (shape < 0.45) return sign + digits(1 + Math.floor(random() * 7));
  if (shape < 0.8) return `${sign}${random() < 0.5 ? '0' : digits(1 + Math.floor(random() * 5))}.${digits(1 + Math.floor(random() * 6)).replace(/0+$/, '') || '1'}`;
  if (shape < 0.9) return sign + digits(14 + Math.floor(random() * 4));
  return `${sign}${digits(9 + Math.floor(random() * 9))}.${digits(1 + Math.floor(random() * 9)).replace(/0+$/, '') || '5'}`;
}

const price = (random: () => number): string => (random() < 0.3 ? ['0', '0.002', '0.0001', '1', '12.5'][Math.floor(random() * 5)] as string : decimalText(random, false));

function tiers(random: () => number): Tier[] {
  const count = 1 + Math.floor(random() * 4);
  const result: Tier[] = [];
  let upTo = 0;
  for (let index = 0; index < count; index++) {
    const last = index === count - 1;
    upTo += 1 + Math.floor(random() * (random() < 0.1 ? 1e15 : 5000));
    const flatFee = random() < 0.4 ? price(random) : undefined;
    result.push({ ...(last ? {} : { upTo }), unitPrice: price(random), ...(flatFee === undefined ? {} : { flatFee }) });
  }
  return result;
}

/** The work on scaled integers (falling back as it must) and on decimal.js alone give the same lines and amount. */
function expectSameAsDecimalJs<T>(work: PricedWork<T>, inputs: unknown): void {
  let reference: T | Error;
  try {
    reference = pricedByDecimalJs(work);
  } catch (error) {
    reference = error as Error;
  }
  if (reference instanceof Error) {
    expect(() => priced(work), JSON.stringify(inputs)).toThrow(reference.message);
    return;
  }
  expect(priced(work), JSON.stringify(inputs)).toEqual(reference);
}

describe('scaled safe integers, the charge models\' fast path', () => {
  it('reads plain decimals and writes them canonically', () => {
    expect(scaledOf('12.50')).toEqual({ digits: 1250, scale: 2 });
    expect(scaledText(scaledOf('-0.000'))).toBe('0');
    expect(scaledText(scaledOf('007.10'))).toBe('7.1');
    expect(formatScaled(5, 4)).toBe('0.0005');
  });

  it('refuses what it cannot hold exactly instead of rounding it', () => {
    expect(() => scaledOf('1e3')).toThrow();
    expect(() => scaledOf('9007199254740993')).toThrow();
    const caught = (work: () => unknown): unknown => {
      try {
        work();
      } catch (error) {
        return error;
      }
      return undefined;
    };
    expect(caught(() => scaledOf('12345678901234567'))).toBe(notScaled);
    expect(caught(() => timesScaled(scaledOf('99999999999'), scaledOf('99999999')))).toBe(notScaled);
    expect(caught(() => plusScaled(scaledOf('9007199254740991'), scaledOf('1')))).toBe(notScaled);
    expect(caught(() => plusScaled(scaledOf('1'), scaledOf('0.0000000000000001')))).toBe(notScaled);
  });

  it('divides up to whole packages, toward +∞', () => {
    const up = (text: string, divisor: number): string => scaledText(ceilDivideScaled(scaledOf(text), divisor));
    expect([up('201', 100), up('200', 100), up('0.5', 1), up('0', 7), up('-0.5', 1), up('-150', 100)]).toEqual(['3', '2', '1', '0', '0', '-1']);
  });

  it('rounds half away from zero, like decimal.js ROUND_HALF_UP', () => {
    for (const text of ['1.005', '2.675', '0.125', '0.124999', '-0.125', '-7.5', '7.4999', '-0.004', '999.995']) {
      for (const places of [0, 1, 2, 3]) {
        expect(scaledText(roundHalfUpScaled(scaledOf(text), places)), `${text} to ${places}`).toBe(new Decimal(text).toDecimalPlaces(places, Decimal.ROUND_HALF_UP).toFixed());
      }
    }
  });
});

describe('charge models on scaled integers give what decimal.js gives', () => {
  const random = seededRandom(20261207);
  const minorUnits = [0, 2, 3];

  it('graduated and volume, over random tiers and quantities', () => {
    for (let run = 0; run < 3000; run++) {
      const charge: ChargeConfig = { key: 'c', meter: 'm', model: run % 2 === 0 ? 'graduated' : 'volume', tiers: tiers(random) };
      const quantity = decimalText(random, true);
      const places = minorUnits[run % 3] as number;
      expectSameAsDecimalJs((run % 2 === 0 ? graduated : volume)(charge, quantity, places), { charge, quantity, places });
    }
  });

  it('per_unit, whole periods and prorated segments', () => {
    for (let run = 0; run < 3000; run++) {
      const flatFee = random() < 0.5 ? price(random) : undefined;
      const charge: ChargeConfig = { key: 'c', meter: 'm', model: 'per_unit', unitPrice: price(random), ...(flatFee === undefined ? {} : { flatFee }) };
      const quantity = decimalText(random, true);
      const periodMs = 2_678_400_000;
      const proration = run % 4 === 0 ? { segmentMs: Math.floor(random() * periodMs), periodMs } : { segmentMs: 1, periodMs: 1 };
      const places = minorUnits[run % 3] as number;
      expectSameAsDecimalJs(perUnit(charge, quantity, places, proration), { charge, quantity, places, proration });
    }
  });

  it('package, with and without free units', () => {
    for (let run = 0; run < 2000; run++) {
      const freeUnits = random() < 0.5 ? Math.floor(random() * 1000) : undefined;
      const charge: ChargeConfig = {
        key: 'c',
        meter: 'm',
        model: 'package',
        packageSize: 1 + Math.floor(random() * (random() < 0.1 ? 1e12 : 500)),
        packagePrice: price(random),
        ...(freeUnits === undefined ? {} : { freeUnits }),
      };
      const quantity = decimalText(random, true);
      const places = minorUnits[run % 3] as number;
      expectSameAsDecimalJs(packaged(charge, quantity, places), { charge, quantity, places });
    }
  });

  it('time_of_day, one quantity per interval', () => {
    for (let run = 0; run < 1000; run++) {
      const charge: ChargeConfig = {
        key: 'c',
        meter: 'm',
        model: 'time_of_day',
        intervals: [
          { from: '00:00', to: '08:00', unitPrice: price(random) },
          { from: '08:00', to: '24:00', unitPrice: price(random) },
        ],
      };
      const quantities = [decimalText(random, true), decimalText(random, true)];
      const places = minorUnits[run % 3] as number;
      expectSameAsDecimalJs(timeOfDay(charge, quantities, places), { charge, quantities, places });
    }
  });

  it('sums invoice lines exactly, past the fast path too', () => {
    for (let run = 0; run < 2000; run++) {
      const lines = Array.from({ length: 1 + Math.floor(random() * 6) }, () => ({ amount: decimalText(random, true) }));
      const reference = lines.reduce((sum, line) => sum.plus(line.amount), new Decimal(0));
      expect(sumLines(lines), JSON.stringify(lines)).toBe(reference.isZero() ? '0' : reference.toFixed());
    }
  });

  it('takes the difference of meter totals exactly, past the fast path too', () => {
    for (let run = 0; run < 3000; run++) {
      const left = decimalText(random, true);
      const right = run % 10 === 0 ? left : decimalText(random, true);
      const reference = new Decimal(left).minus(right);
      expect(subtractDecimals(left, right), `${left} − ${right}`).toBe(reference.isZero() ? '0' : reference.toFixed());
    }
    expect(subtractDecimals('1e+21', '1')).toBe('999999999999999999999');
  });
});
