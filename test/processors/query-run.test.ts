import { describe, expect, it } from 'vitest';
import { meterStoreKey } from '../../processors/meter-keys.js';
import { QueryError, parseMeterQuery, runMeterQuery, type MeterQueryResult } from '../../processors/query/index.js';
import { aggregationOf, ask, configWith, emptyPartition, hourMs, partition } from './query-fixtures.js';

/** Rows as `windowStart → windowEnd = value`, for calendar tests. */
const spans = (result: MeterQueryResult): string[] => result.data.map((row) => `${row.windowStart} → ${row.windowEnd} = ${row.value}`);

describe('runMeterQuery: calendar buckets', () => {
  it('makes the spring-forward day in America/Los_Angeles 23 hours long and files usage by local date', async () => {
    const store = await partition('tokens', [
      { time: '2024-03-09T20:00:00Z', value: '1' },
      { time: '2024-03-10T07:59:00Z', value: '2' }, // 23:59 on the 9th locally, though the 10th in UTC
      { time: '2024-03-10T08:00:00Z', value: '4' },
      { time: '2024-03-11T06:59:00Z', value: '8' },
      { time: '2024-03-11T07:00:00Z', value: '16' },
    ]);
    const result = await ask('meter=tokens&from=2024-03-09T08:00:00Z&to=2024-03-12T07:00:00Z&windowSize=DAY&windowTimeZone=America/Los_Angeles', [store]);
    expect(spans(result)).toEqual([
      '2024-03-09T08:00:00.000Z → 2024-03-10T08:00:00.000Z = 3',
      '2024-03-10T08:00:00.000Z → 2024-03-11T07:00:00.000Z = 12',
      '2024-03-11T07:00:00.000Z → 2024-03-12T07:00:00.000Z = 16',
    ]);
  });

  it('makes the fall-back day in America/Los_Angeles 25 hours long', async () => {
    const store = await partition('tokens', [
      { time: '2024-11-02T12:00:00Z', value: '8' },
      { time: '2024-11-03T07:00:00Z', value: '1' },
      { time: '2024-11-04T07:59:00Z', value: '2' }, // 23:59 PST on the 3rd
      { time: '2024-11-04T08:00:00Z', value: '4' },
    ]);
    const result = await ask('meter=tokens&from=2024-11-02T07:00:00Z&to=2024-11-05T08:00:00Z&windowSize=DAY&windowTimeZone=America/Los_Angeles', [store]);
    expect(spans(result)).toEqual([
      '2024-11-02T07:00:00.000Z → 2024-11-03T07:00:00.000Z = 8',
      '2024-11-03T07:00:00.000Z → 2024-11-04T08:00:00.000Z = 3',
      '2024-11-04T08:00:00.000Z → 2024-11-05T08:00:00.000Z = 4',
    ]);
  });

  it('starts months at local midnight on the first in Europe/Budapest and keeps to the range', async () => {
    const store = await partition('tokens', [
      { time: '2024-12-31T22:59:00Z', value: '32' }, // before from
      { time: '2024-12-31T23:00:00Z', value: '1' }, // 1 January 00:00 locally
      { time: '2025-01-31T22:59:00Z', value: '2' },
      { time: '2025-01-31T23:00:00Z', value: '4' },
      { time: '2025-02-28T22:59:00Z', value: '8' },
      { time: '2025-02-28T23:00:00Z', value: '16' }, // at to: excluded
    ]);
    const result = await ask('meter=tokens&from=2024-12-31T23:00:00Z&to=2025-02-28T23:00:00Z&windowSize=MONTH&windowTimeZone=Europe/Budapest', [store]);
    expect(spans(result)).toEqual([
      '2024-12-31T23:00:00.000Z → 2025-01-31T23:00:00.000Z = 3',
      '2025-01-31T23:00:00.000Z → 2025-02-28T23:00:00.000Z = 12',
    ]);
  });

  it('starts hours at :30 UTC in Asia/Kolkata, clips the edge hours and omits hours without usage', async () => {
    const store = await partition('tokens', [
      { time: '2024-01-01T00:10:00Z', value: '1' },
      { time: '2024-01-01T00:29:00Z', value: '2' },
      { time: '2024-01-01T00:30:00Z', value: '4' },
      { time: '2024-01-01T01:29:00Z', value: '8' },
      { time: '2024-01-01T02:30:00Z', value: '16' },
      { time: '2024-01-01T02:59:00Z', value: '32' },
    ]);
    const result = await ask('meter=tokens&from=2024-01-01T00:00:00Z&to=2024-01-01T03:00:00Z&windowSize=HOUR&windowTimeZone=Asia/Kolkata', [store]);
    expect(spans(result)).toEqual([
      '2024-01-01T00:00:00.000Z → 2024-01-01T00:30:00.000Z = 3',
      '2024-01-01T00:30:00.000Z → 2024-01-01T01:30:00.000Z = 12',
      '2024-01-01T02:30:00.000Z → 2024-01-01T03:00:00.000Z = 48',
    ]);
  });

  it('clips the first and last days to [from, to)', async () => {
    const store = await partition('tokens', [
      { time: '2024-01-01T11:59:00Z', value: '64' },
      { time: '2024-01-01T12:00:00Z', value: '1' },
      { time: '2024-01-01T23:59:00Z', value: '2' },
      { time: '2024-01-02T00:00:00Z', value: '4' },
      { time: '2024-01-03T11:59:00Z', value: '8' },
      { time: '2024-01-03T12:00:00Z', value: '128' },
    ]);
    const result = await ask('meter=tokens&from=2024-01-01T12:00:00Z&to=2024-01-03T12:00:00Z&windowSize=DAY', [store]);
    expect(spans(result)).toEqual([
      '2024-01-01T12:00:00.000Z → 2024-01-02T00:00:00.000Z = 3',
      '2024-01-02T00:00:00.000Z → 2024-01-03T00:00:00.000Z = 4',
      '2024-01-03T00:00:00.000Z → 2024-01-03T12:00:00.000Z = 8',
    ]);
  });

  it('gives one row per group over the whole range when there is no windowSize', async () => {
    const store = await partition('tokens', [
      { time: '2023-12-31T23:59:00Z', value: '100' },
      { time: '2024-01-01T00:00:00Z', value: '1', subject: 'a' },
      { time: '2024-01-05T00:00:00Z', value: '2', subject: 'b' },
      { time: '2024-01-09T23:59:59.999Z', value: '4', subject: 'a' },
      { time: '2024-01-10T00:00:00Z', value: '100' },
    ]);
    const result = await ask('meter=tokens&from=2024-01-01T00:00:00Z&to=2024-01-10T00:00:00Z', [store]);
    expect(result.data).toEqual([{ windowStart: '2024-01-01T00:00:00.000Z', windowEnd: '2024-01-10T00:00:00.000Z', subject: null, groupBy: {}, value: '7' }]);
  });

  it('refuses at run time a base window that a local boundary would split', async () => {
    const store = await partition('tokens', [{ time: '2024-01-01T01:00:00Z', value: '1' }], hourMs);
    const utc = parseMeterQuery(new URLSearchParams('meter=tokens&from=2024-01-01T00:00:00Z&to=2024-01-01T03:00:00Z&windowSize=HOUR'), configWith(hourMs));
    const kolkata = { ...utc, windowTimeZone: 'Asia/Kolkata' };
    await expect(runMeterQuery(kolkata, [store], aggregationOf('tokens'))).rejects.toThrow(QueryError);
    await expect(runMeterQuery(utc, [store], aggregationOf('tokens'))).resolves.toMatchObject({ data: [{ value: '1' }] });
  });
});

describe('runMeterQuery: response body', () => {
  it('echoes the query in a fixed field order, with UTC instants and null for no windowSize', async () => {
    const store = await partition('tokens', [{ time: '2024-01-01T00:00:00Z', subject: 'a', value: '0.1' }]);
    const result = await ask('meter=tokens&from=2024-01-01T05:30:00%2B05:30&to=2024-01-02T00:00:00Z&windowTimeZone=Europe/Budapest', [store]);
    expect(JSON.stringify(result)).toBe(
      '{"meter":"tokens","from":"2024-01-01T00:00:00.000Z","to":"2024-01-02T00:00:00.000Z","windowSize":null,"windowTimeZone":"Europe/Budapest",' +
        '"data":[{"windowStart":"2024-01-01T00:00:00.000Z","windowEnd":"2024-01-02T00:00:00.000Z","subject":null,"groupBy":{},"value":"0.1"}]}',
    );
  });

  it('makes no row for a window that holds no events', async () => {
    const store = await emptyPartition('tokens');
    await store.put(meterStoreKey('a', {}), Date.parse('2024-01-01T00:00:00Z'), { acc: '0', count: 0 });
    await store.put(meterStoreKey('b', {}), Date.parse('2024-01-01T00:00:00Z'), { acc: '5', count: 1 });
    const result = await ask('meter=tokens&from=2024-01-01T00:00:00Z&to=2024-01-02T00:00:00Z&groupBy=subject', [store]);
    expect(result.data.map((row) => row.subject)).toEqual(['b']);
  });

  it('returns no rows when the range holds no usage', async () => {
    const store = await partition('tokens', [{ time: '2024-01-03T00:00:00Z', value: '1' }]);
    const result = await ask('meter=tokens&from=2024-01-01T00:00:00Z&to=2024-01-02T00:00:00Z&windowSize=HOUR', [store]);
    expect(result.data).toEqual([]);
  });
});
