/**
 * Answers a parsed meter query from the meter's window stores (one per task):
 * reads the base windows in [from, to), filters, groups them into rows and
 * merges their accumulators with the meter's aggregation.
 */
import { TallyError } from '../../schemas/errors.js';
import type { ReadOnlyWindowStore } from '../../state/types.js';
import type { Aggregation, MeterWindowValue } from '../aggregations/aggregation.js';
import { canonicalGroupBy, parseMeterStoreKey } from '../meter-keys.js';
import { createBucketLocator, isoInstant, type QueryWindowSize, type TimeSpan } from './calendar-buckets.js';
import { assertBoundaryAligned, type MeterQuery } from './parse-query.js';

/** One row of a query result. */
export interface MeterQueryRow {
  /** Bucket start clipped to `from`, ISO-8601 UTC (`2024-12-31T23:00:00.000Z`). */
  readonly windowStart: string;
  /** Bucket end clipped to `to`, ISO-8601 UTC; exclusive. */
  readonly windowEnd: string;
  /** The subject when rows are split by subject; null when subjects are merged. */
  readonly subject: string | null;
  /** The customer the row's subjects belong to; only when the query maps subjects to customers. */
  readonly customerId?: string;
  /** The requested group-by keys (only those, names sorted) and their values; `{}` when none. */
  readonly groupBy: Readonly<Record<string, string>>;
  /** The aggregation's result, an exact decimal string. */
  readonly value: string;
}

/** The query response body (HTTP API and `tally replay --query`). */
export interface MeterQueryResult {
  readonly meter: string;
  /** ISO-8601 UTC, inclusive. */
  readonly from: string;
  /** ISO-8601 UTC, exclusive. */
  readonly to: string;
  readonly windowSize: QueryWindowSize | null;
  readonly windowTimeZone: string;
  /** Sorted by windowStart, then subject (null first), then customerId, then canonical groupBy JSON. */
  readonly data: readonly MeterQueryRow[];
}

/** The row a store key contributes to, apart from time. */
interface RowGroup {
  readonly subject: string | null;
  /** Only when the query maps subjects to customers. */
  readonly customerId?: string;
  readonly groupBy: Readonly<Record<string, string>>;
  /** Canonical JSON of `groupBy`, for ordering. */
  readonly groupByKey: string;
  /** Subject and groupBy together, unique per group. */
  readonly id: string;
}

interface RowAccumulator {
  readonly bucket: TimeSpan;
  readonly group: RowGroup;
  acc: unknown;
}

/**
 * Runs a query over a meter's window stores.
 *
 * Rows exist only for buckets that hold at least one event (empty buckets are
 * omitted, as in OpenMeter). Accumulators are combined with
 * `aggregation.merge` and read once with `result`, so AVG, UNIQUE_COUNT and
 * LATEST come out as if the bucket had been one window.
 *
 * @param stores the meter's window store of every task (partition); windows with the
 *   same key in several stores are merged too
 * @param aggregation the meter's aggregation (its name must match `query.aggregation`)
 * @throws QueryError (400) when a calendar boundary falls inside a base window that holds data
 */
export async function runMeterQuery(
  query: MeterQuery,
  stores: readonly ReadOnlyWindowStore<MeterWindowValue>[],
  aggregation: Aggregation<unknown>,
): Promise<MeterQueryResult> {
  if (aggregation.name !== query.aggregation) {
    throw new TallyError(
      'query-aggregation-mismatch',
      `meter ${JSON.stringify(query.meter)} aggregates with ${query.aggregation} but the query was run with ${aggregation.name}`,
    );
  }
  const rows = new Map<string, RowAccumulator>();
  const bucketOf = bucketFinder(query);
  const groupOf = groupFinder(query);
  const lastWindowStartMs = query.toMs - query.baseWindowSizeMs;
  for (const store of stores) {
    for await (const entry of store.fetchAll(query.fromMs, lastWindowStartMs)) {
      const group = groupOf(entry.key);
      if (group === undefined || entry.value.count === 0) continue;
      const bucket = bucketOf(entry.windowStartMs);
      const rowKey = `${bucket.startMs} ${group.id}`;
      const row = rows.get(rowKey);
      if (row === undefined) {
        rows.set(rowKey, { bucket, group, acc: entry.value.acc });
      } else {
        row.acc = aggregation.merge(row.acc, entry.value.acc);
      }
    }
  }
  return {
    meter: query.meter,
    from: isoInstant(query.fromMs),
    to: isoInstant(query.toMs),
    windowSize: query.windowSize ?? null,
    windowTimeZone: query.windowTimeZone,
    data: [...rows.values()].sort(compareRows).map((row) => toRow(row, aggregation)),
  };
}

/**
 * Maps a base window start to its bucket, clipped to [from, to), and refuses
 * a base window that a bucket boundary would split.
 */
function bucketFinder(query: MeterQuery): (windowStartMs: number) => TimeSpan {
  const whole: TimeSpan = { startMs: query.fromMs, endMs: query.toMs };
  if (query.windowSize === undefined) return () => whole;
  const locate = createBucketLocator(query.windowSize, query.windowTimeZone);
  return (windowStartMs) => {
    const bucket = locate(windowStartMs);
    const clipped = { startMs: Math.max(bucket.startMs, query.fromMs), endMs: Math.min(bucket.endMs, query.toMs) };
    if (windowStartMs + query.baseWindowSizeMs > clipped.endMs) assertBoundaryAligned(query, clipped.endMs);
    return clipped;
  };
}

/**
 * Maps a store key (subject NUL group-by JSON) to its row group, or undefined
 * when the subject or group-by filters exclude it; memoized per key, since a
 * key recurs in every window.
 */
function groupFinder(query: MeterQuery): (storeKey: string) => RowGroup | undefined {
  const subjects = new Set(query.subjects);
  const customers = query.customerOfSubject;
  const found = new Map<string, RowGroup | undefined>();
  return (storeKey) => {
    if (found.has(storeKey)) return found.get(storeKey);
    const { subject, groupBy } = parseMeterStoreKey(storeKey);
    const customerId = customers !== undefined && Object.hasOwn(customers, subject) ? customers[subject] : undefined;
    let group: RowGroup | undefined;
    if ((subjects.size === 0 || subjects.has(subject)) && matchesFilters(groupBy, query.filterGroupBy)) {
      const rowSubject = query.groupBySubject ? subject : null;
      const rowGroupBy = pick(groupBy, query.groupBy);
      const groupByKey = canonicalGroupBy(rowGroupBy);
      const id = JSON.stringify([rowSubject, customerId ?? null, groupByKey]);
      group = { subject: rowSubject, ...(customerId === undefined ? {} : { customerId }), groupBy: rowGroupBy, groupByKey, id };
    }
    found.set(storeKey, group);
    return group;
  };
}

/** A missing group-by value is the empty string (docs/metering.md, "Aggregations"), here as in the meter processor. */
function matchesFilters(groupBy: Readonly<Record<string, string>>, filters: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(filters)) if ((groupBy[key] ?? '') !== value) return false;
  return true;
}

function pick(groupBy: Readonly<Record<string, string>>, names: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of names) picked[name] = groupBy[name] ?? '';
  return picked;
}

/** Locale-free: UTF-16 code unit order, the same on every machine. */
function compareText(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

function compareRows(left: RowAccumulator, right: RowAccumulator): number {
  if (left.bucket.startMs !== right.bucket.startMs) return left.bucket.startMs - right.bucket.startMs;
  const [leftSubject, rightSubject] = [left.group.subject, right.group.subject];
  if (leftSubject !== rightSubject) {
    if (leftSubject === null) return -1;
    if (rightSubject === null) return 1;
    return compareText(leftSubject, rightSubject);
  }
  const [leftCustomer = '', rightCustomer = ''] = [left.group.customerId, right.group.customerId];
  if (leftCustomer !== rightCustomer) return compareText(leftCustomer, rightCustomer);
  return compareText(left.group.groupByKey, right.group.groupByKey);
}

function toRow(row: RowAccumulator, aggregation: Aggregation<unknown>): MeterQueryRow {
  return {
    windowStart: isoInstant(row.bucket.startMs),
    windowEnd: isoInstant(row.bucket.endMs),
    subject: row.group.subject,
    ...(row.group.customerId === undefined ? {} : { customerId: row.group.customerId }),
    groupBy: row.group.groupBy,
    value: aggregation.result(row.acc),
  };
}
