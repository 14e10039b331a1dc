/**
 * Leaf nodes of the config schema: each knows its type, its constraint and the
 * message that says how to fix a bad value.
 */
import { Decimal } from 'decimal.js';
import { DateTime } from 'luxon';
import { isIanaZone } from '../time-zones.js';
import { currencyMinorUnits, currencyCodes } from '../currencies.js';
import { parseDurationMs } from '../duration.js';
import { TallyError } from '../errors.js';
import { compileJsonPath } from '../json-path.js';
import { INVALID, kindOf, quote, type ConfigNode, type ParseContext, type Parsed } from './config-dsl.js';
import { didYouMean } from './did-you-mean.js';

function leaf<T>(type: string, constraint: string | undefined, parse: (raw: unknown, path: string, ctx: ParseContext) => Parsed<T>): ConfigNode<T> {
  return { doc: constraint === undefined ? { type } : { type, constraint }, parse };
}

/** A string node; `validate` returns the fix for a bad value, or undefined. */
function stringLeaf<T = string>(
  type: string,
  constraint: string | undefined,
  validate: (text: string) => string | undefined,
  convert: (text: string) => T = (text) => text as T,
  options: { secret?: boolean } = {},
): ConfigNode<T> {
  return leaf(type, constraint, (raw, path, ctx) => {
    if (typeof raw !== 'string') {
      const fix = typeof raw === 'number' || typeof raw === 'boolean' ? `; quote it: "${String(raw)}"` : '';
      const article = /^[AEIOU]/i.test(type) ? 'an' : 'a';
      ctx.report(path, `must be ${article} ${type}; got ${kindOf(raw)}${options.secret === true ? '' : fix}`);
      return INVALID;
    }
    const problem = validate(raw);
    if (problem === undefined) return convert(raw);
    ctx.report(path, options.secret === true ? problem : `${quote(raw)} ${problem}`);
    return INVALID;
  });
}

export interface TextOptions {
  /** Whole-string pattern; its source is shown in the reference. */
  readonly pattern?: RegExp;
  /** The fix when the pattern does not match, e.g. "use letters, digits, _ and -". */
  readonly hint?: string;
  readonly secret?: boolean;
}

/** A non-empty string. Secret strings are never quoted in messages. */
export function text(options: TextOptions = {}): ConfigNode<string> {
  const { pattern, hint, secret } = options;
  return stringLeaf(
    'string',
    pattern === undefined ? undefined : `matches ${pattern.source}`,
    (value) => {
      if (value.length === 0) return 'must not be empty';
      if (pattern !== undefined && !pattern.test(value)) return `is not allowed; ${hint ?? `match ${pattern.source}`}`;
      return undefined;
    },
    undefined,
    secret === undefined ? {} : { secret },
  );
}

/** Names used in record keys and store names. */
export const SLUG = /^[A-Za-z0-9_-]+$/;
export const slug = (what: string): ConfigNode<string> => text({ pattern: SLUG, hint: `a ${what} uses only letters, digits, _ and - (it becomes part of record keys)` });

export function integer(min: number, max: number = Number.MAX_SAFE_INTEGER): ConfigNode<number> {
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}..${max}`;
  return leaf('integer', range, (raw, path, ctx) => {
    if (typeof raw !== 'number' || !Number.isInteger(raw)) {
      ctx.report(path, `must be an integer ${range}; got ${typeof raw === 'number' ? raw : kindOf(raw)}`);
      return INVALID;
    }
    if (raw < min || raw > max) {
      ctx.report(path, `${raw} is out of range; use an integer ${range}`);
      return INVALID;
    }
    return raw;
  });
}

export const boolean = (): ConfigNode<boolean> =>
  leaf('boolean', undefined, (raw, path, ctx) => {
    if (typeof raw === 'boolean') return raw;
    ctx.report(path, `must be true or false; got ${kindOf(raw)}`);
    return INVALID;
  });

/** One of a closed set (an `as const` array). */
export function oneOf<T extends string>(values: readonly T[]): ConfigNode<T> {
  const list = values.join(', ');
  return leaf('enum', `one of ${list}`, (raw, path, ctx) => {
    if (typeof raw === 'string' && (values as readonly string[]).includes(raw)) return raw as T;
    if (typeof raw === 'string') ctx.report(path, `unknown ${quote(raw)}; use one of ${list}${didYouMean(raw, values)}`);
    else ctx.report(path, `must be one of ${list}; got ${kindOf(raw)}`);
    return INVALID;
  });
}

function fixFromError(error: unknown, value: string): string {
  const message = error instanceof TallyError ? error.message : String(error);
  // Messages from the parsers quote the value first; drop it, the caller quotes it.
  const quoted = JSON.stringify(value);
  return message.startsWith(`${quoted} `) ? message.slice(quoted.length + 1) : message;
}

/** ISO-8601 duration, parsed to milliseconds. */
export const duration = (): ConfigNode<number> =>
  stringLeaf('duration', 'ISO-8601, fixed length (no months or years)', (value) => {
    try {
      parseDurationMs(value);
      return undefined;
    } catch (error) {
      return fixFromError(error, value);
    }
  }, parseDurationMs);

/** A JSONPath into the event's data, kept as written once it compiles. */
export const jsonPath = (): ConfigNode<string> =>
  leaf('JSONPath', "$, .name, ['name'], [0]", (raw, path, ctx) => {
    if (typeof raw !== 'string') {
      ctx.report(path, `must be a JSONPath string such as $.tokens; got ${kindOf(raw)}`);
      return INVALID;
    }
    try {
      compileJsonPath(raw);
      return raw;
    } catch (error) {
      ctx.report(path, error instanceof Error ? error.message : String(error));
      return INVALID;
    }
  });

const MONEY = /^[0-9]+(\.[0-9]+)?$/;

/** Money or a price: a non-negative decimal string (YAML numbers are binary floats). */
export const money = (): ConfigNode<string> =>
  leaf('decimal string', 'non-negative, e.g. "0.001"', (raw, path, ctx) => {
    if (typeof raw === 'number') {
      ctx.report(path, `must be a decimal string; quote it: "${String(raw)}" (YAML numbers are binary floats and lose precision)`);
      return INVALID;
    }
    if (typeof raw !== 'string') {
      ctx.report(path, `must be a decimal string such as "0.001"; got ${kindOf(raw)}`);
      return INVALID;
    }
    if (!MONEY.test(raw) || !new Decimal(raw).isFinite()) {
      const sign = raw.trim().startsWith('-') ? 'is negative; prices and fees are >= 0' : 'is not a plain decimal; write digits with an optional fraction, e.g. "0.001" or "5"';
      ctx.report(path, `${quote(raw)} ${sign}`);
      return INVALID;
    }
    return raw;
  });

const ZONES: readonly string[] = Intl.supportedValuesOf('timeZone');

export const timeZone = (): ConfigNode<string> =>
  stringLeaf('IANA time zone', 'e.g. America/Los_Angeles, UTC', (value) =>
    isIanaZone(value) ? undefined : `is not an IANA time zone; use a name such as America/Los_Angeles, Asia/Kolkata or UTC${didYouMean(value, ZONES)}`,
  );

export const currency = (): ConfigNode<string> =>
  stringLeaf('ISO 4217 code', 'e.g. USD, EUR, JPY', (value) =>
    currencyMinorUnits(value) !== undefined ? undefined : `is not a supported ISO 4217 currency code; use e.g. USD, EUR or JPY${didYouMean(value.toUpperCase(), currencyCodes)}`,
  );

/** A real calendar date, `YYYY-MM-DD`. */
export const localDate = (): ConfigNode<string> =>
  stringLeaf('date', 'YYYY-MM-DD', (value) => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return 'is not a date; write YYYY-MM-DD, e.g. "2024-01-15"';
    return DateTime.fromISO(value, { zone: 'UTC' }).isValid ? undefined : 'is not a real calendar date';
  });

/** An RFC 3339 instant with an explicit offset (`Z` or `±HH:MM`), e.g. "2024-02-21T06:00:00Z"; kept as written. */
export const instant = (): ConfigNode<string> =>
  stringLeaf('instant', 'RFC 3339 with an offset, e.g. 2024-02-21T06:00:00Z', (value) => {
    const shaped = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value);
    return shaped && Number.isFinite(Date.parse(value)) ? undefined : 'is not an instant; write RFC 3339 with an offset, e.g. "2024-02-21T06:00:00Z" or "2024-03-05T00:00:00-08:00"';
  });

/** A string, or a non-empty list of strings (a filter value: any of them matches). */
export const stringOrList = (): ConfigNode<string | string[]> =>
  leaf('string or list of strings', undefined, (raw, path, ctx) => {
    if (typeof raw === 'string') return raw;
    if (Array.isArray(raw) && raw.length > 0 && raw.every((item) => typeof item === 'string')) return [...(raw as string[])];
    ctx.report(path, `must be a string or a non-empty list of strings, e.g. gpt-4 or [mini, haiku]; got ${kindOf(raw)}`);
    return INVALID;
  });

/** Local time of day `HH:mm`; `24:00` (end of day) only where `allowEndOfDay`. */
export const timeOfDay = (allowEndOfDay: boolean): ConfigNode<string> =>
  stringLeaf('time of day', allowEndOfDay ? 'HH:mm, 00:00..24:00' : 'HH:mm, 00:00..23:59', (value) => {
    const match = /^([01][0-9]|2[0-4]):([0-5][0-9])$/.exec(value);
    const valid = match !== null && (match[1] !== '24' || (allowEndOfDay && match[2] === '00'));
    if (valid) return undefined;
    return `is not a time of day; write HH:mm from 00:00 to ${allowEndOfDay ? '24:00' : '23:59'}, quoted (e.g. "06:00")`;
  });

/** An http(s) URL; never quoted (it may carry credentials). */
export const httpUrl = (): ConfigNode<string> => ({
  ...leaf('URL', 'http:// or https://', (raw, path, ctx) => {
    let valid = false;
    try {
      valid = typeof raw === 'string' && ['http:', 'https:'].includes(new URL(raw).protocol);
    } catch {
      valid = false;
    }
    if (!valid) ctx.report(path, 'must be an http:// or https:// URL, e.g. "http://127.0.0.1:8081/apis/ccompat/v7"');
    return valid ? (raw as string) : INVALID;
  }),
  redact(value: string): string {
    const url = new URL(value);
    if (url.username === '' && url.password === '') return value;
    url.username = 'redacted';
    url.password = '';
    return url.toString();
  },
});

/** Options handed to a library as they are (kafkajs `ssl`, `sasl`); only their shape is checked. */
export function passthrough<T>(type: string, accepts: (raw: unknown) => raw is T, redact: (value: T) => unknown): ConfigNode<T> {
  return {
    doc: { type, constraint: 'passed to kafkajs as is' },
    parse(raw, path, ctx) {
      if (accepts(raw)) return raw;
      ctx.report(path, `must be ${type}; got ${kindOf(raw)}`);
      return INVALID;
    },
    redact,
  };
}
