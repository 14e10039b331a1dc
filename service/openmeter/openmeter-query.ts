/**
 * Turns an OpenMeter query into Tally's `MeterQuery`:
 *
 * - `from` and `to` are optional: `from` defaults to the oldest window still
 *   kept (`windows.retention` before now), `to` to now;
 * - an instant between base windows (`windows.size`) is rounded outward —
 *   `from` down, `to` up — so the answer covers at least what was asked;
 *   it is never refused for alignment;
 * - `filterCustomerId` becomes the customers' subjects, and rows are split by
 *   customer (`customerId`), as is `groupBy=customer_id`. Customers are the
 *   ones in the config.
 */
import { DateTime } from 'luxon';
import { parseMeterQuery, QueryError, type MeterQuery } from '../../processors/query/index.js';
import type { TallyConfig } from '../../schemas/index.js';
import type { OpenMeterQueryInput } from './openmeter-query-input.js';

export interface OpenMeterQuery {
  readonly query: MeterQuery;
  /** Nothing can match (the subjects asked for belong to none of the customers asked for). */
  readonly matchesNothing: boolean;
  /** Rows carry `customerId` (filterCustomerId or groupBy=customer_id). */
  readonly byCustomer: boolean;
  /** The group-by keys as the client ordered them (without subject and customer_id). */
  readonly groupByOrder: readonly string[];
}

const customerIdKey = 'customer_id';
/** RFC 3339 with an offset; a space before a bare offset is a `+` that URL decoding turned into a space. */
const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2}| \d{2}:\d{2})$/;

export function toMeterQuery(input: OpenMeterQueryInput, slug: string, config: TallyConfig, nowMs: number): OpenMeterQuery {
  const baseMs = config.windows.sizeMs;
  const fromMs = floorTo(input.from === undefined ? nowMs - config.windows.retentionMs : instantMs('from', input.from, 'down'), baseMs);
  const toMs = ceilTo(input.to === undefined ? nowMs : instantMs('to', input.to, 'up'), baseMs);
  const byCustomer = input.filterCustomerId.length > 0 || input.groupBy.includes(customerIdKey);
  const groupBy = input.groupBy.filter((key) => key !== customerIdKey);
  const params = new URLSearchParams([['from', new Date(fromMs).toISOString()], ['to', new Date(toMs).toISOString()]]);
  if (input.windowSize !== undefined) params.set('windowSize', input.windowSize);
  if (input.windowTimeZone !== undefined) params.set('windowTimeZone', input.windowTimeZone);
  for (const subject of input.subject) params.append('subject', subject);
  for (const key of groupBy) params.append('groupBy', key);
  for (const [key, value] of Object.entries(input.filterGroupBy)) params.set(`filterGroupBy[${key}]`, value);
  const parsed = parseMeterQuery(params, config, slug);
  if (!byCustomer) return { query: parsed, matchesNothing: false, byCustomer, groupByOrder: orderOf(groupBy) };

  const customerOfSubject = subjectsToCustomers(config);
  const customerSubjects = customerSubjectsOf(input.filterCustomerId, config);
  let subjects = parsed.subjects;
  if (customerSubjects !== undefined) subjects = subjects.length === 0 ? customerSubjects : subjects.filter((s) => customerSubjects.includes(s));
  const query: MeterQuery = Object.freeze({ ...parsed, subjects: Object.freeze(subjects), customerOfSubject });
  return { query, matchesNothing: subjects.length === 0 && customerSubjects !== undefined, byCustomer, groupByOrder: orderOf(groupBy) };
}

function orderOf(groupBy: readonly string[]): string[] {
  return [...new Set(groupBy.filter((key) => key !== 'subject'))];
}

function subjectsToCustomers(config: TallyConfig): Readonly<Record<string, string>> {
  const map: Record<string, string> = {};
  for (const customer of config.customers) for (const subject of customer.subjects) map[subject] = customer.id;
  return Object.freeze(map);
}

/** The subjects of the customers filtered on (sorted), or undefined when there is no customer filter. */
function customerSubjectsOf(ids: readonly string[], config: TallyConfig): string[] | undefined {
  if (ids.length === 0) return undefined;
  const subjects = new Set<string>();
  for (const id of ids) {
    const customer = config.customers.find((c) => c.id === id);
    if (customer === undefined) {
      const knownIds = config.customers.map((c) => JSON.stringify(c.id));
      throw new QueryError('query-invalid', `filterCustomerId ${JSON.stringify(id)} is not a customer in the config; the customers are ${knownIds.length === 0 ? '(none)' : knownIds.join(', ')}`);
    }
    for (const subject of customer.subjects) subjects.add(subject);
  }
  return [...subjects].sort();
}

/** Epoch ms of an RFC 3339 instant; digits past the millisecond round in `direction`. */
function instantMs(name: 'from' | 'to', text: string, direction: 'down' | 'up'): number {
  const match = rfc3339.exec(text);
  const parsed = match === null ? undefined : DateTime.fromISO(text.replace(' ', '+').replace(/(\.\d{3})\d+/, '$1'), { setZone: true });
  if (parsed === undefined || !parsed.isValid) {
    throw new QueryError('query-invalid', `${name} ${JSON.stringify(text)} is not an RFC 3339 date-time with an offset; send e.g. ${name}=2024-01-01T00:00:00Z`);
  }
  const beyondMs = /[1-9]/.test((match?.[1] ?? '').slice(4));
  return parsed.toMillis() + (beyondMs && direction === 'up' ? 1 : 0);
}

function floorTo(ms: number, stepMs: number): number {
  return Math.floor(ms / stepMs) * stepMs;
}

function ceilTo(ms: number, stepMs: number): number {
  return Math.ceil(ms / stepMs) * stepMs;
}
