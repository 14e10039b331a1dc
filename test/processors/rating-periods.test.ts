import { describe, expect, it } from 'vitest';
import { billingPeriodAt, nextBillingPeriod, type BillingPeriod } from '../../processors/rating/index.js';

const at = (iso: string, zone: string, anchor: string): BillingPeriod => billingPeriodAt(Date.parse(iso), zone, anchor);
const bounds = (period: BillingPeriod): [string, string] => [period.start, period.end];
const hours = (period: BillingPeriod): number => (period.endMs - period.startMs) / 3_600_000;

function periodsFrom(iso: string, zone: string, anchor: string, count: number): BillingPeriod[] {
  const periods = [at(iso, zone, anchor)];
  while (periods.length < count) periods.push(nextBillingPeriod(periods[periods.length - 1] as BillingPeriod, zone, anchor));
  return periods;
}

describe('billing periods', () => {
  it('start on the anchor day at local midnight, clamped to short months (anchor 31, leap year)', () => {
    expect(periodsFrom('2024-01-31T00:00:00Z', 'UTC', '2024-01-31', 5).map((p) => p.start)).toEqual([
      '2024-01-31T00:00:00.000Z',
      '2024-02-29T00:00:00.000Z',
      '2024-03-31T00:00:00.000Z',
      '2024-04-30T00:00:00.000Z',
      '2024-05-31T00:00:00.000Z',
    ]);
  });

  it('clamp to February 28 in a common year and 29 in a leap year', () => {
    expect(bounds(at('2023-02-28T12:00:00Z', 'UTC', '2024-01-30'))).toEqual(['2023-02-28T00:00:00.000Z', '2023-03-30T00:00:00.000Z']);
    expect(bounds(at('2024-02-28T12:00:00Z', 'UTC', '2024-01-30'))).toEqual(['2024-01-30T00:00:00.000Z', '2024-02-29T00:00:00.000Z']);
    expect(bounds(at('2100-02-28T12:00:00Z', 'UTC', '2024-01-29'))).toEqual(['2100-02-28T00:00:00.000Z', '2100-03-29T00:00:00.000Z']); // 2100 is not a leap year
  });

  it('are half-open: the start instant opens a period, the millisecond before belongs to the previous one', () => {
    expect(at('2024-02-01T08:00:00.000Z', 'America/Los_Angeles', '2024-01-01').start).toBe('2024-02-01T00:00:00.000-08:00');
    expect(at('2024-02-01T07:59:59.999Z', 'America/Los_Angeles', '2024-01-01').start).toBe('2024-01-01T00:00:00.000-08:00');
  });

  it('hold Kill Bill’s UTC/PST case in the local period, where the naive UTC date would not', () => {
    // 2024-02-21T06:05Z is 2024-02-20T22:05 in Los Angeles: the period that ends 2024-02-21T00:00 local.
    const local = at('2024-02-21T06:05:00Z', 'America/Los_Angeles', '2024-01-21');
    expect(bounds(local)).toEqual(['2024-01-21T00:00:00.000-08:00', '2024-02-21T00:00:00.000-08:00']);
    // Side by side: computing the period from the UTC date puts it in the next period (a month late).
    const naiveUtc = at('2024-02-21T06:05:00Z', 'UTC', '2024-01-21');
    expect(naiveUtc.start).toBe('2024-02-21T00:00:00.000Z');
    expect(naiveUtc.startMs).toBeGreaterThan(local.startMs);
    expect(naiveUtc.end).toBe('2024-03-21T00:00:00.000Z');
  });

  it('span DST changes with the local offset at each end (743 h across March, 745 h across November, New York)', () => {
    const march = at('2024-03-10T12:00:00Z', 'America/New_York', '2024-01-10');
    expect(bounds(march)).toEqual(['2024-03-10T00:00:00.000-05:00', '2024-04-10T00:00:00.000-04:00']);
    expect(hours(march)).toBe(743);
    const autumn = at('2024-11-03T12:00:00Z', 'America/New_York', '2024-01-10');
    expect(bounds(autumn)).toEqual(['2024-10-10T00:00:00.000-04:00', '2024-11-10T00:00:00.000-05:00']);
    expect(hours(autumn)).toBe(745);
    // Both sides of the spring-forward gap (01:59 EST, 03:00 EDT) are in the same period.
    expect(at('2024-03-10T06:59:00Z', 'America/New_York', '2024-01-10').start).toBe(march.start);
    expect(at('2024-03-10T07:00:00Z', 'America/New_York', '2024-01-10').start).toBe(march.start);
  });

  it('start at the first instant of the day when local midnight does not exist (Santiago, DST at 00:00)', () => {
    const period = at('2024-09-08T12:00:00Z', 'America/Santiago', '2024-01-08');
    expect(period.start).toBe('2024-09-08T01:00:00.000-03:00');
    expect(at('2024-09-08T03:59:59.999Z', 'America/Santiago', '2024-01-08').start).toBe('2024-08-08T00:00:00.000-04:00');
  });

  it('follow a +05:30 zone: Asia/Kolkata midnight is 18:30 UTC the day before', () => {
    expect(at('2024-01-31T18:29:59.999Z', 'Asia/Kolkata', '2024-01-01').start).toBe('2024-01-01T00:00:00.000+05:30');
    expect(bounds(at('2024-01-31T18:30:00.000Z', 'Asia/Kolkata', '2024-01-01'))).toEqual(['2024-02-01T00:00:00.000+05:30', '2024-03-01T00:00:00.000+05:30']);
  });

  it('cross the year end and take only the anchor’s day of month (usage before the anchor date has a period too)', () => {
    expect(bounds(at('2024-12-20T00:00:00Z', 'UTC', '2025-06-15'))).toEqual(['2024-12-15T00:00:00.000Z', '2025-01-15T00:00:00.000Z']);
    expect(bounds(at('2025-01-10T00:00:00Z', 'UTC', '2024-01-15'))).toEqual(['2024-12-15T00:00:00.000Z', '2025-01-15T00:00:00.000Z']);
  });

  it('refuse an unknown zone or a malformed anchor', () => {
    expect(() => at('2024-01-01T00:00:00Z', 'Mars/Olympus', '2024-01-01')).toThrow(/IANA/);
    expect(() => at('2024-01-01T00:00:00Z', 'UTC', '15.01.2024')).toThrow(/YYYY-MM-DD/);
  });
});
