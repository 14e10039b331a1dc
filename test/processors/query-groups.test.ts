import { describe, expect, it } from 'vitest';
import { parseMeterQuery, runMeterQuery, type MeterQueryResult } from '../../processors/query/index.js';
import { aggregationOf, ask, configWith, minuteMs, partition, type Usage } from './query-fixtures.js';

describe('runMeterQuery: subjects and groups', () => {
  const usages: Usage[] = [
    { time: '2024-01-01T00:00:00Z', subject: 'b', groupBy: { route: '/a', method: 'GET' } },
    { time: '2024-01-01T00:01:00Z', subject: 'a', groupBy: { route: '/a', method: 'POST' } },
    { time: '2024-01-01T00:02:00Z', subject: 'a', groupBy: { route: '/b', method: 'GET' } },
    { time: '2024-01-01T00:03:00Z', subject: 'c', groupBy: { route: '/b', method: 'GET' } },
    { time: '2024-01-01T00:04:00Z', subject: 'a', groupBy: { route: '', method: 'GET' } }, // route path missing
  ];
  const range = 'meter=requests&from=2024-01-01T00:00:00Z&to=2024-01-02T00:00:00Z';
  const brief = (result: MeterQueryResult): string[] => result.data.map((row) => `${String(row.subject)} ${JSON.stringify(row.groupBy)} = ${row.value}`);

  it('merges every subject and group into one row when neither subject nor groupBy is given', async () => {
    expect(brief(await ask(range, [await partition('requests', usages)]))).toEqual(['null {} = 5']);
  });

  it('splits by subject and keeps only the filtered subjects when subject is given', async () => {
    expect(brief(await ask(`${range}&subject=c&subject=a`, [await partition('requests', usages)]))).toEqual(['a {} = 3', 'c {} = 1']);
  });

  it('splits by subject when groupBy=subject', async () => {
    expect(brief(await ask(`${range}&groupBy=subject`, [await partition('requests', usages)]))).toEqual(['a {} = 3', 'b {} = 1', 'c {} = 1']);
  });

  it('splits by exactly the requested group-by keys', async () => {
    expect(brief(await ask(`${range}&groupBy=route`, [await partition('requests', usages)]))).toEqual([
      'null {"route":""} = 1',
      'null {"route":"/a"} = 2',
      'null {"route":"/b"} = 2',
    ]);
  });

  it('filters by group-by values without splitting by them', async () => {
    const store = await partition('requests', usages);
    expect(brief(await ask(`${range}&groupBy=route&filterGroupBy[method]=GET`, [store]))).toEqual([
      'null {"route":""} = 1',
      'null {"route":"/a"} = 1',
      'null {"route":"/b"} = 2',
    ]);
    expect(brief(await ask(`${range}&filterGroupBy[route]=`, [store]))).toEqual(['null {} = 1']);
  });

  it('sorts rows by windowStart, then subject, then group', async () => {
    const result = await ask(`${range}&windowSize=MINUTE&groupBy=subject&groupBy=method`, [
      await partition('requests', [...usages, { time: '2024-01-01T00:00:30Z', subject: 'a', groupBy: { route: '/z', method: 'PUT' } }, { time: '2024-01-01T00:00:40Z', subject: 'a', groupBy: { route: '/z', method: 'GET' } }]),
    ]);
    expect(result.data.map((row) => `${row.windowStart.slice(11, 16)} ${String(row.subject)} ${JSON.stringify(row.groupBy)}`)).toEqual([
      '00:00 a {"method":"GET"}',
      '00:00 a {"method":"PUT"}',
      '00:00 b {"method":"GET"}',
      '00:01 a {"method":"POST"}',
      '00:02 a {"method":"GET"}',
      '00:03 c {"method":"GET"}',
      '00:04 a {"method":"GET"}',
    ]);
  });

  it('merges the stores of several partitions, the same subject and window included', async () => {
    const first = await partition('tokens', [
      { time: '2024-01-01T00:00:00Z', subject: 'a', value: '1' },
      { time: '2024-01-01T00:00:00Z', subject: 'c', value: '2' },
    ]);
    const second = await partition('tokens', [
      { time: '2024-01-01T00:00:00Z', subject: 'b', value: '4' },
      { time: '2024-01-01T00:00:00Z', subject: 'c', value: '8' },
    ]);
    const query = 'meter=tokens&from=2024-01-01T00:00:00Z&to=2024-01-02T00:00:00Z';
    expect(brief(await ask(`${query}&groupBy=subject`, [first, second]))).toEqual(['a {} = 1', 'b {} = 4', 'c {} = 10']);
    expect(brief(await ask(query, [first, second]))).toEqual(['null {} = 15']);
  });
});

describe('runMeterQuery: re-aggregation', () => {
  it('averages AVG over all events of the range, not over the windows averages', async () => {
    const store = await partition('latency', [
      { time: '2024-01-01T00:00:00Z', value: '1' },
      { time: '2024-01-01T00:00:10Z', value: '2' },
      { time: '2024-01-01T00:00:20Z', value: '3' },
      { time: '2024-01-01T00:01:00Z', value: '10' },
    ]);
    const result = await ask('meter=latency&from=2024-01-01T00:00:00Z&to=2024-01-01T01:00:00Z', [store]);
    expect(result.data.map((row) => row.value)).toEqual(['4']);
  });

  it('counts UNIQUE_COUNT over a day as distinct values across its minutes', async () => {
    const store = await partition('users', [
      { time: '2024-01-01T00:00:00Z', value: 'alice' },
      { time: '2024-01-01T00:00:05Z', value: 'bob' },
      { time: '2024-01-01T09:30:00Z', value: 'bob' },
      { time: '2024-01-01T23:59:00Z', value: 'carol' },
    ]);
    const result = await ask('meter=users&from=2024-01-01T00:00:00Z&to=2024-01-02T00:00:00Z&windowSize=DAY', [store]);
    expect(result.data.map((row) => row.value)).toEqual(['3']);
  });

  it('keeps LATEST the value with the greatest event time across windows, subjects and partitions', async () => {
    const first = await partition('seats', [
      { time: '2024-01-01T10:00:00Z', subject: 'a', value: '5', offset: 1 },
      { time: '2024-01-01T09:00:00Z', subject: 'a', value: '9', offset: 2 },
    ]);
    const second = await partition('seats', [{ time: '2024-01-01T10:30:00Z', subject: 'b', value: '7', offset: 0 }]);
    const range = 'meter=seats&from=2024-01-01T00:00:00Z&to=2024-01-02T00:00:00Z';
    expect((await ask(range, [first, second])).data.map((row) => row.value)).toEqual(['7']);
    expect((await ask(`${range}&windowSize=HOUR`, [second, first])).data.map((row) => `${row.windowStart.slice(11, 16)} ${row.value}`)).toEqual([
      '09:00 9',
      '10:00 7',
    ]);
  });

  it('sums decimals exactly across windows', async () => {
    const usages = Array.from({ length: 1000 }, (_, minute) => ({ time: new Date(Date.UTC(2024, 0, 1) + minute * minuteMs).toISOString(), value: '0.1' }));
    const result = await ask('meter=tokens&from=2024-01-01T00:00:00Z&to=2024-01-02T00:00:00Z', [await partition('tokens', usages)]);
    expect(result.data.map((row) => row.value)).toEqual(['100']);
  });

  it('refuses an aggregation that is not the meter\'s', async () => {
    const query = parseMeterQuery(new URLSearchParams('meter=tokens&from=2024-01-01T00:00:00Z&to=2024-01-02T00:00:00Z'), configWith(minuteMs));
    await expect(runMeterQuery(query, [], aggregationOf('requests'))).rejects.toMatchObject({ code: 'query-aggregation-mismatch' });
  });
});
