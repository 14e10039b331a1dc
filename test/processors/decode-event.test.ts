import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { classifyEvent, type IngestSettings } from '../../processors/ingest/classify-event.js';
import { parseEventTimeMs, validateCloudEvent } from '../../processors/ingest/decode-event.js';
import { jsonEventDecoder } from '../../processors/ingest/event-decoder.js';
import { compileMeterPlans } from '../../processors/meter-plan.js';
import { defaultMeters, t0 } from './metering-harness.js';

const settings: IngestSettings = { decoder: jsonEventDecoder(2048), maxFutureSkewMs: 300_000, plans: compileMeterPlans(defaultMeters) };
const base = { specversion: '1.0', id: 'e1', source: 'src', type: 'api.request', subject: 'acme', time: '2024-01-01T00:00:00Z', data: {} };
const classify = (value: unknown, nowMs = t0) =>
  classifyEvent(value === null ? null : Buffer.isBuffer(value) ? value : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)), nowMs, settings);

function reasonOf(value: unknown, nowMs = t0): string {
  const outcome = classify(value, nowMs);
  return outcome.kind === 'dead-letter' ? outcome.failure.reason : outcome.kind;
}

describe('classifyEvent: dead-letter reasons', () => {
  it.each([
    ['a tombstone', null, 'invalid-encoding'],
    ['bytes that are not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'invalid-encoding'],
    ['text that is not JSON', 'not json', 'invalid-encoding'],
    ['an empty line', '', 'invalid-encoding'],
    ['a JSON array', '[1,2]', 'not-an-object'],
    ['a JSON string', '"hello"', 'not-an-object'],
    ['JSON null', 'null', 'not-an-object'],
    ['a payload over the size limit', { ...base, data: { pad: 'x'.repeat(4096) } }, 'too-large'],
    ['specversion 0.3', { ...base, specversion: '0.3' }, 'unsupported-specversion'],
    ['no specversion', { ...base, specversion: undefined }, 'missing-field'],
    ['specversion as a number', { ...base, specversion: 1.0 }, 'invalid-field'],
    ['no id', { ...base, id: undefined }, 'missing-field'],
    ['an empty source', { ...base, source: '' }, 'missing-field'],
    ['no type', { ...base, type: undefined }, 'missing-field'],
    ['no subject', { ...base, subject: undefined }, 'missing-field'],
    ['a numeric id', { ...base, id: 42 }, 'invalid-field'],
    ['a subject object', { ...base, subject: { a: 1 } }, 'invalid-field'],
    ['data that is an array', { ...base, data: [1] }, 'invalid-field'],
    ['data that is a string', { ...base, data: 'x' }, 'invalid-field'],
    ['data null', { ...base, data: null }, 'invalid-field'],
    ['data_base64 instead of data', { ...base, data: undefined, data_base64: 'AAAA' }, 'invalid-field'],
    ['a time without offset', { ...base, time: '2024-01-01T00:00:00' }, 'invalid-time'],
    ['a date-only time', { ...base, time: '2024-01-01' }, 'invalid-time'],
    ['February 30', { ...base, time: '2024-02-30T00:00:00Z' }, 'invalid-time'],
    ['hour 24', { ...base, time: '2024-01-01T24:00:00Z' }, 'invalid-time'],
    ['a time before 1970', { ...base, time: '1969-12-31T23:59:59Z' }, 'invalid-time'],
    ['a numeric time', { ...base, time: 1704067200000 }, 'invalid-time'],
    ['time null', { ...base, time: null }, 'invalid-time'],
    ['a time far in the future', { ...base, time: '2099-01-01T00:00:00Z' }, 'future-time'],
    ['a SUM value that is not numeric', { ...base, type: 'llm.tokens', data: { tokens: 'abc' } }, 'invalid-value'],
    ['a SUM value that is missing', { ...base, type: 'llm.tokens', data: {} }, 'invalid-value'],
    ['a SUM value that is null', { ...base, type: 'llm.tokens', data: { tokens: null } }, 'invalid-value'],
    ['a SUM value "NaN"', { ...base, type: 'llm.tokens', data: { tokens: 'NaN' } }, 'invalid-value'],
    ['a SUM value "Infinity"', { ...base, type: 'llm.tokens', data: { tokens: '-Infinity' } }, 'invalid-value'],
    ['a SUM value that is a boolean', { ...base, type: 'llm.tokens', data: { tokens: true } }, 'invalid-value'],
  ])('%s → %s', (_what, value, reason) => {
    expect(reasonOf(value)).toBe(reason);
  });

  it('every reason has a message, and ids once they are known', () => {
    const outcome = classify({ ...base, type: 'llm.tokens', data: { tokens: 'abc' } });
    expect(outcome).toEqual({
      kind: 'dead-letter',
      failure: { reason: 'invalid-value', message: expect.stringMatching(/tokens.*\$\.tokens is the string "abc", not a number/), eventId: 'e1', eventSource: 'src', meter: 'tokens' },
    });
    const early = classify({ ...base, subject: '' });
    expect(early).toMatchObject({ kind: 'dead-letter', failure: { reason: 'missing-field', eventId: 'e1', eventSource: 'src' } });
    expect((early as { failure: { message: string } }).failure.message).toContain('subject');
  });
});

describe('classifyEvent: valid events', () => {
  it('keeps the time verbatim and its instant in ms (sub-ms digits truncated)', () => {
    const outcome = classify({ ...base, time: '2024-01-01T01:00:59.9999+01:00' });
    expect(outcome).toMatchObject({ kind: 'valid', event: { time: '2024-01-01T01:00:59.9999+01:00', timeMs: t0 + 59_999 } });
  });

  it('stamps an event without time with the ingestion time (the wall clock)', () => {
    const outcome = classify({ ...base, time: undefined }, t0 + 1234);
    expect(outcome).toMatchObject({ kind: 'valid', event: { time: '2024-01-01T00:00:01.234Z', timeMs: t0 + 1234 } });
  });

  it('treats absent data as an empty object', () => {
    expect(classify({ ...base, data: undefined })).toMatchObject({ kind: 'valid', event: { data: {} } });
  });

  it('accepts a time exactly maxFutureSkew ahead of the wall clock, refuses one ms more', () => {
    expect(reasonOf({ ...base, time: '2024-01-01T00:05:00Z' })).toBe('valid');
    expect(reasonOf({ ...base, time: '2024-01-01T00:05:00.001Z' })).toBe('future-time');
  });

  it('calls an event of a type no meter reads unmatched, not an error', () => {
    expect(reasonOf({ ...base, type: 'something.else' })).toBe('unmatched');
  });

  it('accepts numeric strings and JSON numbers for a SUM meter', () => {
    expect(reasonOf({ ...base, type: 'llm.tokens', data: { tokens: '1e3' } })).toBe('valid');
    expect(reasonOf({ ...base, type: 'llm.tokens', data: { tokens: -0.5 } })).toBe('valid');
  });
});

describe('validateCloudEvent', () => {
  it('reports the first problem in a fixed order', () => {
    const result = validateCloudEvent({ specversion: '1.0', subject: '' }, t0);
    expect(result).toMatchObject({ ok: false, failure: { reason: 'missing-field', message: expect.stringContaining('id is missing') } });
  });
});

describe('parseEventTimeMs', () => {
  it.each([
    '2024-01-01T00:00:00Z',
    '2024-02-29T23:59:59.999Z',
    '2024-03-10T02:30:00-08:00',
    '2023-12-31T23:00:00.5+05:45',
    '2024-06-30T12:00:00.123456789-00:00',
    '2100-02-28T00:00:00z',
    '1970-01-01T00:00:00Z',
  ])('agrees with luxon on %s', (text) => {
    expect(parseEventTimeMs(text)).toBe(DateTime.fromISO(text.toUpperCase(), { setZone: true }).toMillis());
  });

  it.each(['2023-02-29T00:00:00Z', '2100-02-29T00:00:00Z', '2024-13-01T00:00:00Z', '2024-04-31T00:00:00Z', '2024-01-01T00:00:60Z', '0099-01-01T00:00:00Z', '1970-01-01T00:30:00+01:00', '2024-01-01 00:00:00Z'])(
    'refuses %s',
    (text) => {
      expect(parseEventTimeMs(text)).toBeUndefined();
    },
  );

  it('accepts exactly what the RFC 3339 grammar accepts, on texts one edit away from valid ones', () => {
    // The grammar as a regular expression: the parser must agree with it on every text, and with Date on the value.
    const grammar = /^(\d{4})-(\d{2})-(\d{2})[Tt]([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(?:\.(\d+))?(?:[Zz]|([+-])([01]\d|2[0-3]):([0-5]\d))$/;
    const seeds = ['2024-02-29T23:59:59.999Z', '2024-03-10T02:30:00-08:00', '2023-12-31T23:00:00.5+05:45', '2024-06-30T12:00:00.123456789z'];
    const alphabet = ['0', '1', '2', '3', '5', '6', '9', '-', '+', ':', '.', 'T', 't', 'Z', 'z', ' ', 'x'];
    let checked = 0;
    for (const seed of seeds) {
      const variants = [seed, seed.slice(0, -1), `${seed}0`];
      for (let at = 0; at < seed.length; at++) {
        variants.push(seed.slice(0, at) + seed.slice(at + 1));
        for (const char of alphabet) variants.push(seed.slice(0, at) + char + seed.slice(at + 1));
      }
      for (const text of variants) {
        const parsed = parseEventTimeMs(text);
        const match = grammar.exec(text);
        if (match === null) {
          expect(parsed, text).toBeUndefined();
          continue;
        }
        const luxon = DateTime.fromISO(text.toUpperCase(), { setZone: true });
        const expected = luxon.isValid && luxon.year >= 1970 && luxon.toMillis() >= 0 ? Math.trunc(luxon.toMillis()) : undefined;
        expect(parsed, text).toBe(expected);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });
});
