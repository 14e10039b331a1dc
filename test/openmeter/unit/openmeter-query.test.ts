/**
 * OpenMeter's query parameters into Tally's meter query, without a service:
 * from/to optional and rounded outward, parameters from GET and POST alike,
 * what is refused and how, and customers — checked by running the query on
 * in-memory window stores.
 */
import { describe, expect, it } from 'vitest';
import { QueryError, runMeterQuery } from '../../../processors/query/index.js';
import type { TallyConfig } from '../../../schemas/index.js';
import { toMeterQuery } from '../../../service/openmeter/openmeter-query.js';
import { queryInputFromBody, queryInputFromParams } from '../../../service/openmeter/openmeter-query-input.js';
import { aggregationOf, configWith, dayMs, minuteMs, partition } from '../../processors/query-fixtures.js';

const config: TallyConfig = {
  ...configWith(minuteMs),
  customers: [
    { id: 'acme', subjects: ['acme-prod', 'acme-dev'], timezone: 'UTC', currency: 'USD', billingAnchor: '2024-01-01', plan: 'pro' },
    { id: 'kumo', subjects: ['kumo-web'], timezone: 'UTC', currency: 'USD', billingAnchor: '2024-01-01', plan: 'pro' },
  ],
};
const nowMs = Date.parse('2024-01-02T12:34:56.789Z');
const fromGet = (query: string, slug = 'tokens') => toMeterQuery(queryInputFromParams(new URLSearchParams(query)), slug, config, nowMs);
const iso = (ms: number): string => new Date(ms).toISOString();

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof QueryError) return `${error.status} ${error.message}`;
    throw error;
  }
  throw new Error('no QueryError');
}

describe('from and to', () => {
  it('rounds an unaligned from down and an unaligned to up to the base window, never refusing', () => {
    const { query } = fromGet('from=2024-01-01T10:00:30Z&to=2024-01-01T11:05:00.0001%2B01:00');
    expect([iso(query.fromMs), iso(query.toMs)]).toEqual(['2024-01-01T10:00:00.000Z', '2024-01-01T10:06:00.000Z']);
  });

  it('keeps aligned instants as they are, and reads a "+" that URL decoding turned into a space', () => {
    const { query } = fromGet('from=2024-01-01T10:00:00+01:00&to=2024-01-01T11:00:00.000Z');
    expect([iso(query.fromMs), iso(query.toMs)]).toEqual(['2024-01-01T09:00:00.000Z', '2024-01-01T11:00:00.000Z']);
  });

  it('defaults from to the oldest retained window and to to now, rounded outward', () => {
    const { query } = fromGet('');
    expect([iso(query.fromMs), iso(query.toMs)]).toEqual([iso(Math.floor((nowMs - 35 * dayMs) / minuteMs) * minuteMs), '2024-01-02T12:35:00.000Z']);
  });

  it('refuses an instant that is not RFC 3339 with an offset, and an empty range', () => {
    expect(refusal(() => fromGet('from=2024-01-01'))).toMatch(/^400 from "2024-01-01" is not an RFC 3339 date-time with an offset/);
    expect(refusal(() => fromGet('from=2024-01-01T10:00:00'))).toMatch(/^400 from "2024-01-01T10:00:00" is not an RFC 3339/);
    expect(refusal(() => fromGet('from=2024-01-01T10:00:00Z&to=2024-01-01T10:00:00Z'))).toMatch(/^400 from .* must be before to/);
  });
});

describe('parameters', () => {
  it('reads the same query from GET parameters and from a POST body', () => {
    const get = fromGet('clientId=x&from=2024-01-01T00:00:00Z&to=2024-01-02T00:00:00Z&windowSize=HOUR&windowTimeZone=Europe/Budapest&subject=b&subject=a&groupBy=route&filterGroupBy[method]=GET', 'requests');
    const body = queryInputFromBody({ clientId: 'x', from: '2024-01-01T00:00:00Z', to: '2024-01-02T00:00:00Z', windowSize: 'HOUR', windowTimeZone: 'Europe/Budapest', subject: ['b', 'a'], groupBy: ['route'], filterGroupBy: { method: ['GET'] } });
    expect(toMeterQuery(body, 'requests', config, nowMs)).toEqual(get);
    expect(get.query).toMatchObject({ windowSize: 'HOUR', windowTimeZone: 'Europe/Budapest', subjects: ['a', 'b'], groupBySubject: true, groupBy: ['route'], filterGroupBy: { method: 'GET' } });
  });

  it('keeps the client\'s order of group-by keys for the CSV columns', () => {
    expect(fromGet('groupBy=route&groupBy=subject&groupBy=method', 'requests').groupByOrder).toEqual(['route', 'method']);
  });

  it('names what it does not support', () => {
    expect(refusal(() => queryInputFromParams(new URLSearchParams('advancedMeterGroupByFilters[route][$eq]=/a')))).toMatch(/^400 advancedMeterGroupByFilters is not supported by Tally/);
    expect(refusal(() => queryInputFromParams(new URLSearchParams('pageSize=10')))).toMatch(/^400 query parameter "pageSize" is not supported; the parameters are clientId, from, to/);
    expect(refusal(() => queryInputFromBody({ page: 1 }))).toMatch(/^400 query parameter "page" is not supported/);
    expect(refusal(() => queryInputFromBody({ filterGroupBy: { route: ['/a', '/b'] } }))).toMatch(/^400 filterGroupBy\[route\] has 2 values \("\/a", "\/b"\)/);
    expect(refusal(() => queryInputFromBody({ subject: 'acme' }))).toMatch(/^400 subject must be an array of strings/);
    expect(refusal(() => queryInputFromBody([]))).toMatch(/^400 the body must be a JSON object/);
    expect(refusal(() => fromGet('from=2024-01-01T00:00:00Z&from=2024-01-01T00:01:00Z'))).toMatch(/^400 from is given 2 times/);
  });
});

describe('customers', () => {
  it('maps filterCustomerId to the customer\'s subjects and a missing customer to a refusal that lists the known ones', () => {
    expect(fromGet('filterCustomerId=acme').query).toMatchObject({ subjects: ['acme-dev', 'acme-prod'], groupBySubject: false });
    expect(refusal(() => fromGet('filterCustomerId=nobody'))).toBe('400 filterCustomerId "nobody" is not a customer in the config; the customers are "acme", "kumo"');
  });

  it('matches nothing when the subjects asked for belong to none of the customers asked for', () => {
    expect(fromGet('filterCustomerId=kumo&subject=acme-prod')).toMatchObject({ matchesNothing: true });
    expect(fromGet('filterCustomerId=kumo&subject=kumo-web')).toMatchObject({ matchesNothing: false, query: { subjects: ['kumo-web'] } });
  });

  it('merges a customer\'s subjects with the aggregation (a unique count is not a sum) and keeps subjects of no customer apart', async () => {
    const store = await partition('users', [
      { time: '2024-01-01T10:00:00Z', subject: 'acme-prod', value: 'u1' },
      { time: '2024-01-01T10:01:00Z', subject: 'acme-dev', value: 'u1' },
      { time: '2024-01-01T10:02:00Z', subject: 'acme-dev', value: 'u2' },
      { time: '2024-01-01T10:03:00Z', subject: 'stranger', value: 'u9' },
    ]);
    const { query } = fromGet('from=2024-01-01T10:00:00Z&to=2024-01-01T11:00:00Z&groupBy=customer_id', 'users');
    const result = await runMeterQuery(query, [store], aggregationOf('users'));
    expect(result.data.map((row) => [row.customerId ?? '(none)', row.subject, row.value])).toEqual([
      ['(none)', null, '1'],
      ['acme', null, '2'],
    ]);
  });
});
