import { describe, expect, it } from 'vitest';
import { formatDurationMs, parseDurationMs } from '../../schemas/duration.js';
import { TallyError } from '../../schemas/index.js';

function rejection(text: string): TallyError {
  try {
    parseDurationMs(text);
  } catch (error) {
    if (error instanceof TallyError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

describe('parseDurationMs', () => {
  it.each([
    ['PT1M', 60_000],
    ['PT5M', 300_000],
    ['PT1H', 3_600_000],
    ['P35D', 35 * 86_400_000],
    ['P1W', 7 * 86_400_000],
    ['PT30S', 30_000],
    ['PT0.5S', 500],
    ['P1DT2H30M', 95_400_000],
    ['PT0S', 0],
  ])('reads %s as %i ms', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it.each(['P1M', 'P1Y', 'P1Y2M', 'P2MT1H'])('refuses %s because months and years have no fixed length', (text) => {
    const error = rejection(text);
    expect(error.code).toBe('duration-invalid');
    expect(error.message).toBe(`"${text}" uses months or years, whose length depends on the calendar; use days or weeks instead, e.g. P30D or P5W`);
  });

  it.each(['1h', 'p1d', '60000', 'P', 'PT', '', 'PT1H junk'])('refuses %j as not an ISO-8601 duration', (text) => {
    expect(rejection(text).message).toContain(`${JSON.stringify(text)} is not an ISO-8601 duration; write it as e.g. PT1M, PT5M, PT1H, P35D`);
  });

  it('refuses negative durations', () => {
    expect(rejection('-PT1M').message).toContain('"-PT1M" is negative');
  });

  it('refuses durations finer than a millisecond', () => {
    expect(rejection('PT0.0005S').message).toContain('"PT0.0005S" is finer than a millisecond');
  });
});

describe('formatDurationMs', () => {
  it('renders compact ISO-8601 durations that parse back to the same ms', () => {
    for (const [ms, text] of [
      [60_000, 'PT1M'],
      [3_660_000, 'PT1H1M'],
      [35 * 86_400_000, 'P35D'],
      [500, 'PT0.5S'],
      [0, 'PT0S'],
    ] as const) {
      expect(formatDurationMs(ms)).toBe(text);
      expect(parseDurationMs(text)).toBe(ms);
    }
  });
});
