/**
 * CloudEvents 1.0 validation: a decoded object becomes a {@link UsageEvent},
 * or a failure with a stable reason code and a message that quotes the bad
 * value. Checks run in a fixed order (specversion, id, source, type, subject,
 * time, data) and the first problem is reported.
 */
import type { DeadLetterReason, UsageEvent } from '../../schemas/records.js';

export interface EventFailure {
  readonly reason: DeadLetterReason;
  readonly message: string;
  /** Known once the object had a usable id / source. */
  readonly eventId?: string;
  readonly eventSource?: string;
  /** For `invalid-value`: the meter whose value was bad. */
  readonly meter?: string;
}

export type ValidatedEvent = { readonly ok: true; readonly event: UsageEvent } | { readonly ok: false; readonly failure: EventFailure };

const requiredStrings = ['id', 'source', 'type', 'subject'] as const;

function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/**
 * Parses an RFC 3339 date-time (full date, "T", time with seconds, optional
 * fraction, then "Z" or a numeric offset; "t" and "z" also) to epoch ms.
 * Sub-millisecond digits are truncated, so an event never moves into the next
 * window. Undefined when the text is not RFC 3339, is not a real calendar date
 * (Feb 30), or is before 1970. Hand-rolled, character by character: this runs
 * once per event, luxon's general ISO parser was 8% of ingest time and a
 * regular expression allocated a dozen strings per event; a test checks it
 * agrees with luxon.
 */
export function parseEventTimeMs(text: string): number | undefined {
  const length = text.length;
  if (length < 20) return undefined;
  const y = digits(text, 0, 4);
  const m = digits(text, 5, 2);
  const d = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  if (y < 0 || m < 0 || d < 0 || hour < 0 || minute < 0 || second < 0) return undefined;
  const t = text.charCodeAt(10);
  if (text.charCodeAt(4) !== dash || text.charCodeAt(7) !== dash || (t !== upperT && t !== lowerT) || text.charCodeAt(13) !== colon || text.charCodeAt(16) !== colon) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let at = 19;
  let ms = 0;
  if (text.charCodeAt(at) === dot) {
    const first = ++at;
    while (at < length && isDigit(text.charCodeAt(at))) {
      if (at - first < 3) ms = ms * 10 + (text.charCodeAt(at) - zero);
      at++;
    }
    if (at === first) return undefined;
    for (let place = at - first; place < 3; place++) ms *= 10;
  }
  let offsetMs = 0;
  const zone = text.charCodeAt(at);
  if (zone === upperZ || zone === lowerZ) {
    if (at + 1 !== length) return undefined;
  } else if (zone === plus || zone === dash) {
    if (at + 6 !== length || text.charCodeAt(at + 3) !== colon) return undefined;
    const offsetHours = digits(text, at + 1, 2);
    const offsetMinutes = digits(text, at + 4, 2);
    if (offsetHours < 0 || offsetMinutes < 0 || offsetHours > 23 || offsetMinutes > 59) return undefined;
    offsetMs = (zone === dash ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  } else {
    return undefined;
  }
  // Before 1970 is refused anyway (and Date.UTC would read years 0-99 as 1900-1999).
  if (y < 1970 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return undefined;
  const epochMs = Date.UTC(y, m - 1, d, hour, minute, second, ms) - offsetMs;
  return epochMs >= 0 ? epochMs : undefined;
}

const zero = 0x30;
const dash = 0x2d;
const plus = 0x2b;
const colon = 0x3a;
const dot = 0x2e;
const upperT = 0x54;
const lowerT = 0x74;
const upperZ = 0x5a;
const lowerZ = 0x7a;

function isDigit(code: number): boolean {
  return code >= zero && code <= zero + 9;
}

/** The decimal number of `count` ASCII digits at `at`; -1 when one is not a digit. */
function digits(text: string, at: number, count: number): number {
  let value = 0;
  for (let index = at; index < at + count; index++) {
    const code = text.charCodeAt(index);
    if (!isDigit(code)) return -1;
    value = value * 10 + (code - zero);
  }
  return value;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** A failure that names the event's id and source when it has usable ones. */
function failure(value: Readonly<Record<string, unknown>>, reason: DeadLetterReason, message: string): ValidatedEvent {
  return {
    ok: false,
    failure: {
      reason,
      message,
      ...(typeof value.id === 'string' && value.id !== '' ? { eventId: value.id } : {}),
      ...(typeof value.source === 'string' && value.source !== '' ? { eventSource: value.source } : {}),
    },
  };
}

/**
 * Validates a decoded CloudEvent. It expects a decoder's output: decoders
 * have already applied the shared event rules (`checkEventValue`: well-formed
 * strings, attribute lengths, nesting depth). An absent `time` becomes the ingestion time
 * (`ingestionTimeMs`, written as ISO-8601 UTC); an absent `data` becomes `{}`
 * (so COUNT meters still count it); a present `data` must be an object.
 */
export function validateCloudEvent(value: Readonly<Record<string, unknown>>, ingestionTimeMs: number): ValidatedEvent {

  const { specversion } = value;
  if (specversion === undefined) return failure(value, 'missing-field', 'specversion is missing; CloudEvents 1.0 needs "specversion": "1.0"');
  if (typeof specversion !== 'string') return failure(value, 'invalid-field', `specversion must be the string "1.0", got ${quote(specversion)}`);
  if (specversion !== '1.0') return failure(value, 'unsupported-specversion', `specversion ${quote(specversion)} is not supported; send CloudEvents 1.0 ("specversion": "1.0")`);
  for (const field of requiredStrings) {
    const fieldValue = value[field];
    if (fieldValue === undefined || fieldValue === '') return failure(value, 'missing-field', `${field} is ${fieldValue === '' ? 'empty' : 'missing'}; it must be a non-empty string`);
    if (typeof fieldValue !== 'string') return failure(value, 'invalid-field', `${field} must be a string, got ${quote(fieldValue)}`);
  }

  let time: string;
  let timeMs: number;
  if (value.time === undefined) {
    timeMs = ingestionTimeMs;
    time = new Date(ingestionTimeMs).toISOString();
  } else {
    const parsed = typeof value.time === 'string' ? parseEventTimeMs(value.time) : undefined;
    if (parsed === undefined) {
      return failure(value, 'invalid-time', `time ${quote(value.time)} is not an RFC 3339 timestamp at or after 1970 (e.g. "2024-01-01T12:00:00.000Z" or "2024-01-01T13:00:00+01:00")`);
    }
    time = value.time as string;
    timeMs = parsed;
  }

  let data: Readonly<Record<string, unknown>> = {};
  if (value.data !== undefined) {
    if (typeof value.data !== 'object' || value.data === null || Array.isArray(value.data)) {
      return failure(value, 'invalid-field', `data must be a JSON object, got ${quote(value.data)}`);
    }
    data = value.data as Record<string, unknown>;
  } else if (value.data_base64 !== undefined) {
    return failure(value, 'invalid-field', 'data_base64 is not supported; send the usage data as a JSON object in "data"');
  }

  return {
    ok: true,
    event: {
      specversion: '1.0',
      id: value.id as string,
      source: value.source as string,
      type: value.type as string,
      subject: value.subject as string,
      time,
      timeMs,
      data,
    },
  };
}
