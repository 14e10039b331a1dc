/**
 * ISO-8601 durations for config (`PT1H`, `PT5M`, `P35D`), converted to
 * milliseconds. Only fixed-length units are accepted: weeks, days, hours,
 * minutes, seconds (fractions allowed). Months and years are refused because
 * their length depends on the calendar (P1M is 28 to 31 days), and a window or
 * a retention must have one length. Days are 24 hours here (retention and
 * lateness are spans of elapsed time, not local calendar days).
 */
import { Duration } from 'luxon';
import { TallyError } from './errors.js';

const EXAMPLES = 'e.g. PT1M, PT5M, PT1H, P35D';

function invalid(text: string, problem: string): TallyError {
  return new TallyError('duration-invalid', `${JSON.stringify(text)} ${problem}`);
}

/**
 * Parses an ISO-8601 duration to whole milliseconds.
 * @throws TallyError `duration-invalid` with a message that quotes the text and says what to write.
 */
export function parseDurationMs(text: string): number {
  // luxon accepts a bare "P" or "PT"; ISO-8601 needs at least one number.
  const duration = /\d/.test(text) ? Duration.fromISO(text) : undefined;
  if (duration === undefined || !duration.isValid) {
    throw invalid(text, `is not an ISO-8601 duration; write it as ${EXAMPLES} (uppercase, P then days, T then hours/minutes/seconds)`);
  }
  const parts = duration.toObject();
  if ((parts.years ?? 0) !== 0 || (parts.months ?? 0) !== 0 || (parts.quarters ?? 0) !== 0) {
    throw invalid(text, 'uses months or years, whose length depends on the calendar; use days or weeks instead, e.g. P30D or P5W');
  }
  // luxon silently drops digits below the millisecond; refuse them instead.
  if (/[.,]\d{4,}S$/.test(text)) throw invalid(text, 'is finer than a millisecond; use at most 3 decimals of seconds, e.g. PT0.5S');
  const ms = duration.toMillis();
  if (ms < 0) throw invalid(text, `is negative; durations are zero or more, ${EXAMPLES}`);
  if (!Number.isSafeInteger(ms)) throw invalid(text, 'is not a whole number of milliseconds');
  return ms;
}

/** Renders milliseconds as a compact ISO-8601 duration (`PT1M`, `P35D`, `PT1H30M`, `PT0.5S`) for messages and docs. */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return 'PT0S';
  const days = Math.floor(ms / 86_400_000);
  let rest = ms - days * 86_400_000;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = rest / 1000;
  const time = `${hours > 0 ? `${hours}H` : ''}${minutes > 0 ? `${minutes}M` : ''}${seconds > 0 ? `${seconds}S` : ''}`;
  return `P${days > 0 ? `${days}D` : ''}${time === '' ? '' : `T${time}`}`;
}
