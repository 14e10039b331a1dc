/**
 * Parses and validates a meter query (docs/service.md, `GET /v1/meters/{slug}/query`) from URL query
 * parameters: the HTTP API's `GET /v1/meters/{slug}/query` and `tally replay
 * --query` both come through here, so both answer a bad query the same way.
 */
import { DateTime } from 'luxon';
import type { AggregationName, MeterConfig, TallyConfig } from '../../schemas/config-types.js';
import { isIanaZone } from '../../schemas/time-zones.js';
import { calendarBucket, isoDuration, isoInstant, queryWindowSizes, shortestBucketMs, type QueryWindowSize } from './calendar-buckets.js';
import { QueryError } from './query-error.js';

/** A validated query; every instant is epoch ms, every list deduplicated and sorted. */
export interface MeterQuery {
  /** The meter's slug. */
  readonly meter: string;
  /** The meter's aggregation; the runner checks it is given the matching one. */
  readonly aggregation: AggregationName;
  /** `windows.size` (ms): the granularity of the window stores. */
  readonly baseWindowSizeMs: number;
  /** Inclusive, aligned to the base window. */
  readonly fromMs: number;
  /** Exclusive, aligned to the base window, greater than `fromMs`. */
  readonly toMs: number;
  /** Absent: one row per group over the whole of [from, to). */
  readonly windowSize: QueryWindowSize | undefined;
  /** IANA zone of the calendar buckets, as given (default `UTC`). */
  readonly windowTimeZone: string;
  /** Only these subjects; empty means every subject. */
  readonly subjects: readonly string[];
  /** Rows are split by subject (a `subject` filter was given, or `groupBy=subject`). */
  readonly groupBySubject: boolean;
  /** The meter's group-by keys that split rows (without `subject`). */
  readonly groupBy: readonly string[];
  /** Group-by key → required value. */
  readonly filterGroupBy: Readonly<Record<string, string>>;
  /**
   * Subject → customer id: when given, rows are also split by customer
   * (`customerId`; a subject missing from the map has none). Filter by
   * customer with `subjects`.
   */
  readonly customerOfSubject?: Readonly<Record<string, string>>;
}

const singleParameters = ['meter', 'from', 'to', 'windowSize', 'windowTimeZone'] as const;
const repeatableParameters = ['subject', 'groupBy'] as const;
const filterGroupByPattern = /^filterGroupBy\[(.*)\]$/;
const knownParameters = `${[...singleParameters, ...repeatableParameters].join(', ')}, filterGroupBy[<key>]`;
/** RFC 3339 date-time with a required offset; a space before a bare `hh:mm` offset is a `+` lost to URL decoding. */
const rfc3339 = /^(\d{4}-\d{2}-\d{2})[Tt ]((?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d)(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2}| \d{2}:\d{2})$/;

function invalid(message: string): QueryError {
  return new QueryError('query-invalid', message);
}

const quote = (value: string): string => JSON.stringify(value);
const listOf = (values: readonly string[]): string => values.map(quote).join(', ');

/**
 * Validates a meter query against the configuration.
 *
 * @param params the URL query parameters (`from`, `to`, `windowSize`, `windowTimeZone`,
 *   `subject`…, `groupBy`…, `filterGroupBy[key]`…, and `meter` unless `slug` is given)
 * @param config the frozen configuration: the meters and `windows.sizeMs`
 * @param slug the meter from the URL path (HTTP); a `meter` parameter, if also given, must agree
 * @throws QueryError status 404 (`query-meter-unknown`) for a meter that is not configured,
 *   status 400 (`query-invalid`) for anything else: unknown or repeated parameters, missing or
 *   malformed `from`/`to`, instants not aligned to `windows.size`, `from >= to`, an unknown
 *   `windowSize`, zone, group-by key, or a `windowSize` whose buckets cannot be made of whole
 *   base windows (smaller than `windows.size`, or local boundaries inside a base window).
 */
export function parseMeterQuery(params: URLSearchParams, config: TallyConfig, slug?: string): MeterQuery {
  rejectUnknownParameters(params);
  const meter = resolveMeter(params, config, slug);
  const baseWindowSizeMs = config.windows.sizeMs;
  const fromMs = parseBoundary(params, 'from', baseWindowSizeMs);
  const toMs = parseBoundary(params, 'to', baseWindowSizeMs);
  if (fromMs >= toMs) {
    throw invalid(`from ${isoInstant(fromMs)} must be before to ${isoInstant(toMs)}: the range is [from, to), from inclusive, to exclusive`);
  }
  const windowSizeText = single(params, 'windowSize');
  const windowSize = windowSizeText === undefined ? undefined : parseWindowSize(windowSizeText, baseWindowSizeMs);
  const windowTimeZone = parseTimeZone(single(params, 'windowTimeZone') ?? 'UTC');
  const subjects = [...new Set(params.getAll('subject'))].sort();
  const groupByNames = parseGroupBy(params.getAll('groupBy'), meter);
  const query: MeterQuery = Object.freeze({
    meter: meter.slug,
    aggregation: meter.aggregation,
    baseWindowSizeMs,
    fromMs,
    toMs,
    windowSize,
    windowTimeZone,
    subjects: Object.freeze(subjects),
    groupBySubject: groupByNames.includes('subject') || subjects.length > 0,
    groupBy: Object.freeze(groupByNames.filter((name) => name !== 'subject')),
    filterGroupBy: Object.freeze(parseFilterGroupBy(params, meter)),
  });
  if (windowSize !== undefined) checkEdgeBoundaries(query, windowSize);
  return query;
}

/**
 * Throws when a bucket boundary falls inside a base window: the base window's
 * usage cannot be split between two buckets, so the query cannot be answered.
 */
export function assertBoundaryAligned(query: MeterQuery, boundaryMs: number): void {
  const baseMs = query.baseWindowSizeMs;
  if (((boundaryMs % baseMs) + baseMs) % baseMs === 0) return;
  throw invalid(
    `windowSize ${String(query.windowSize)} in ${query.windowTimeZone} has a window boundary at ${isoInstant(boundaryMs)}, ` +
      `inside a base window (windows.size ${isoDuration(baseMs)}), whose usage cannot be split: ` +
      `use windowTimeZone UTC or a zone whose offset is a multiple of ${isoDuration(baseMs)}, or run with a smaller windows.size`,
  );
}

function rejectUnknownParameters(params: URLSearchParams): void {
  for (const name of new Set(params.keys())) {
    const known = (singleParameters as readonly string[]).includes(name) || (repeatableParameters as readonly string[]).includes(name);
    if (!known && !filterGroupByPattern.test(name)) {
      throw invalid(`unknown query parameter ${quote(name)}; the parameters are ${knownParameters}`);
    }
  }
}

/** The value of a parameter that may appear at most once; undefined when absent. */
function single(params: URLSearchParams, name: (typeof singleParameters)[number]): string | undefined {
  const values = params.getAll(name);
  if (values.length > 1) throw invalid(`${name} is given ${values.length} times (${listOf(values)}); give it once`);
  const [value] = values;
  if (value === '') throw invalid(`${name} is empty; give a value or leave the parameter out`);
  return value;
}

function resolveMeter(params: URLSearchParams, config: TallyConfig, slug: string | undefined): MeterConfig {
  const named = single(params, 'meter');
  if (slug !== undefined && named !== undefined && named !== slug) {
    throw invalid(`meter ${quote(named)} disagrees with the meter ${quote(slug)} in the path; leave the meter parameter out`);
  }
  const wanted = slug ?? named;
  if (wanted === undefined) throw invalid('meter is required: give the slug of a configured meter, e.g. meter=api_requests');
  const meter = config.meters.find((candidate) => candidate.slug === wanted);
  if (meter === undefined) {
    const known = config.meters.map((candidate) => candidate.slug);
    throw new QueryError(
      'query-meter-unknown',
      `no meter ${quote(wanted)} is configured; the meters are ${known.length === 0 ? '(none)' : listOf(known)}`,
      404,
    );
  }
  return meter;
}

/** `from` or `to`: a required RFC 3339 instant on a base window boundary. */
function parseBoundary(params: URLSearchParams, name: 'from' | 'to', baseMs: number): number {
  const text = single(params, name);
  const example = '2024-01-01T00:00:00Z';
  if (text === undefined) {
    throw invalid(`${name} is required: an RFC 3339 instant on a ${isoDuration(baseMs)} boundary (windows.size), e.g. ${name}=${example}`);
  }
  const match = rfc3339.exec(text);
  const [, date = '', time = '', fraction = '', offset = ''] = match ?? [];
  const millis = fraction === '' ? '' : `.${fraction.slice(0, 3)}`;
  const parsed = DateTime.fromISO(`${date}T${time}${millis}${offset.replace(' ', '+')}`, { setZone: true });
  if (match === null || !parsed.isValid) {
    throw invalid(`${name} ${quote(text)} is not an RFC 3339 instant with an offset; send e.g. ${name}=${example} (URL-encode "+" as %2B)`);
  }
  const instantMs = parsed.toMillis();
  const subMillisecond = /[1-9]/.test(fraction.slice(3));
  if (subMillisecond || ((instantMs % baseMs) + baseMs) % baseMs !== 0) {
    const earlierMs = Math.floor(instantMs / baseMs) * baseMs;
    throw invalid(
      `${name} ${quote(text)} is not aligned to the base window (windows.size ${isoDuration(baseMs)}): ` +
        `use ${isoInstant(earlierMs)} or ${isoInstant(earlierMs + baseMs)}`,
    );
  }
  return instantMs;
}

function parseWindowSize(text: string, baseMs: number): QueryWindowSize {
  const windowSize = queryWindowSizes.find((candidate) => candidate === text);
  if (windowSize === undefined) {
    throw invalid(`windowSize ${quote(text)} is not one of ${queryWindowSizes.join(', ')}; or leave it out for one row per group over [from, to)`);
  }
  if (shortestBucketMs[windowSize] < baseMs) {
    const usable = queryWindowSizes.filter((candidate) => shortestBucketMs[candidate] >= baseMs);
    throw invalid(
      `windowSize ${windowSize} is smaller than the base window (windows.size ${isoDuration(baseMs)}); ` +
        `use ${usable.length === 0 ? 'no windowSize' : `${usable.join(', ')}, or no windowSize`}`,
    );
  }
  return windowSize;
}

function parseTimeZone(zone: string): string {
  if (!isIanaZone(zone)) {
    throw invalid(`windowTimeZone ${quote(zone)} is not an IANA time zone; use a name like UTC, Europe/Budapest or America/Los_Angeles`);
  }
  return zone;
}

function parseGroupBy(names: readonly string[], meter: MeterConfig): string[] {
  const valid = ['subject', ...Object.keys(meter.groupBy).sort()];
  for (const name of names) {
    if (!valid.includes(name)) {
      throw invalid(`groupBy ${quote(name)} is not a group-by key of meter ${quote(meter.slug)}; use one of ${listOf(valid)}`);
    }
  }
  return [...new Set(names)].sort();
}

function parseFilterGroupBy(params: URLSearchParams, meter: MeterConfig): Record<string, string> {
  const filters: Record<string, string> = {};
  const valid = Object.keys(meter.groupBy).sort();
  for (const name of [...new Set(params.keys())].sort()) {
    const key = filterGroupByPattern.exec(name)?.[1];
    if (key === undefined) continue;
    if (!valid.includes(key)) {
      const hint = key === 'subject' ? ' (filter subjects with subject=…)' : '';
      throw invalid(
        `filterGroupBy[${key}] names no group-by key of meter ${quote(meter.slug)}${hint}; ` +
          (valid.length === 0 ? 'this meter has no group-by keys' : `use one of ${listOf(valid)}`),
      );
    }
    const values = params.getAll(name);
    if (values.length > 1) throw invalid(`${name} is given ${values.length} times (${listOf(values)}); give one value per key`);
    filters[key] = values[0] as string;
  }
  return filters;
}

/**
 * Checks the first and last bucket boundaries inside (from, to) against the
 * base windows, so a zone whose local boundaries never meet the base windows
 * is refused before any scan. The runner checks every window it reads.
 */
function checkEdgeBoundaries(query: MeterQuery, windowSize: QueryWindowSize): void {
  const first = calendarBucket(query.fromMs, windowSize, query.windowTimeZone).endMs;
  if (first < query.toMs) assertBoundaryAligned(query, first);
  const last = calendarBucket(query.toMs - 1, windowSize, query.windowTimeZone).startMs;
  if (last > query.fromMs) assertBoundaryAligned(query, last);
}
