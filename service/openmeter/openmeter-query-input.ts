/**
 * OpenMeter's meter query parameters, read from a GET query string or a POST
 * JSON body into one shape. Parameters Tally does not support are refused
 * with a message that names them; `clientId` (OpenMeter's progress tracking)
 * is accepted and ignored.
 */
import { QueryError } from '../../processors/query/index.js';

/** A query as OpenMeter's clients send it, before it is checked against the config. */
export interface OpenMeterQueryInput {
  readonly from?: string;
  readonly to?: string;
  readonly windowSize?: string;
  readonly windowTimeZone?: string;
  readonly subject: readonly string[];
  readonly filterCustomerId: readonly string[];
  /** Group-by key → the one value it must have. */
  readonly filterGroupBy: Readonly<Record<string, string>>;
  /** In the order the client gave them (the CSV's columns follow it). */
  readonly groupBy: readonly string[];
}

const singleNames = ['clientId', 'from', 'to', 'windowSize', 'windowTimeZone'] as const;
const listNames = ['subject', 'filterCustomerId', 'groupBy'] as const;
const known = `${[...singleNames, ...listNames].join(', ')}, filterGroupBy[<key>]`;
const filterGroupByParam = /^filterGroupBy\[(.*)\]$/;

function invalid(message: string): QueryError {
  return new QueryError('query-invalid', message);
}

function unsupported(name: string): QueryError {
  if (name.startsWith('advancedMeterGroupByFilters')) {
    return invalid(`advancedMeterGroupByFilters is not supported by Tally: filter with filterGroupBy[<key>]=<value> (one value per key)`);
  }
  return invalid(`query parameter ${JSON.stringify(name)} is not supported; the parameters are ${known}`);
}

/** From the URL of `GET /api/v1/meters/{meter}/query`. */
export function queryInputFromParams(params: URLSearchParams): OpenMeterQueryInput {
  const filterGroupBy: Record<string, string> = {};
  for (const name of new Set(params.keys())) {
    const filterKey = filterGroupByParam.exec(name)?.[1];
    if (filterKey !== undefined) filterGroupBy[filterKey] = oneFilterValue(filterKey, params.getAll(name));
    else if (!(singleNames as readonly string[]).includes(name) && !(listNames as readonly string[]).includes(name)) throw unsupported(name);
  }
  const single = (name: (typeof singleNames)[number]): { [key: string]: string } => {
    const values = params.getAll(name);
    if (values.length > 1) throw invalid(`${name} is given ${values.length} times; give it once`);
    return values[0] === undefined ? {} : { [name]: values[0] };
  };
  return {
    ...single('from'),
    ...single('to'),
    ...single('windowSize'),
    ...single('windowTimeZone'),
    subject: params.getAll('subject'),
    filterCustomerId: params.getAll('filterCustomerId'),
    filterGroupBy,
    groupBy: params.getAll('groupBy'),
  };
}

/** From the JSON body of `POST /api/v1/meters/{meter}/query` (OpenMeter's `MeterQueryRequest`). */
export function queryInputFromBody(body: unknown): OpenMeterQueryInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('the body must be a JSON object with the query (from, to, windowSize, …)');
  const fields = body as Record<string, unknown>;
  for (const name of Object.keys(fields)) {
    if (name !== 'filterGroupBy' && !(singleNames as readonly string[]).includes(name) && !(listNames as readonly string[]).includes(name)) throw unsupported(name);
  }
  const text = (name: (typeof singleNames)[number]): { [key: string]: string } => {
    const value = fields[name];
    if (value === undefined || value === null) return {};
    if (typeof value !== 'string') throw invalid(`${name} must be a string, got ${JSON.stringify(value)}`);
    return { [name]: value };
  };
  return {
    ...text('from'),
    ...text('to'),
    ...text('windowSize'),
    ...text('windowTimeZone'),
    subject: stringList(fields, 'subject'),
    filterCustomerId: stringList(fields, 'filterCustomerId'),
    filterGroupBy: filterGroupByOfBody(fields['filterGroupBy']),
    groupBy: stringList(fields, 'groupBy'),
  };
}

function stringList(fields: Record<string, unknown>, name: string): string[] {
  const value = fields[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw invalid(`${name} must be an array of strings, got ${JSON.stringify(value)}`);
  return value as string[];
}

function filterGroupByOfBody(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`filterGroupBy must be an object of group-by key → [value], got ${JSON.stringify(value)}`);
  const filters: Record<string, string> = {};
  for (const [key, values] of Object.entries(value as Record<string, unknown>)) {
    const list = typeof values === 'string' ? [values] : values;
    if (!Array.isArray(list) || list.some((item) => typeof item !== 'string')) throw invalid(`filterGroupBy.${key} must be an array of strings, got ${JSON.stringify(values)}`);
    filters[key] = oneFilterValue(key, list as string[]);
  }
  return filters;
}

/** Tally filters a group-by key on one value; OpenMeter's POST body allows several. */
function oneFilterValue(key: string, values: readonly string[]): string {
  if (values.length !== 1) {
    throw invalid(`filterGroupBy[${key}] has ${values.length} values (${values.map((v) => JSON.stringify(v)).join(', ')}); Tally filters on exactly one value per key: query once per value, or group by ${key} instead`);
  }
  return values[0] as string;
}
