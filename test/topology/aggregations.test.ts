import { afterEach, describe, expect, it } from 'vitest';
import { jsonSerde, stringSerde } from '../../schemas/index.js';
import { StreamsBuilder, TopologyTestDriver, type TestDriverOptions } from '../../topology/index.js';

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

const countSerde = jsonSerde<number>();

function countPerValue(caching: boolean) {
  const builder = new StreamsBuilder();
  builder
    .stream('in')
    .selectKey((_k, v) => v)
    .groupByKey()
    .count({ name: 'counts', caching })
    .toStream()
    .to('out', { valueSerde: countSerde });
  return builder.build();
}

async function start(topology: ReturnType<typeof countPerValue>, options: TestDriverOptions = {}) {
  driver = await TopologyTestDriver.create(topology, options);
  return driver;
}

describe('aggregations', () => {
  it('count emits every update when the store does not cache', async () => {
    const d = await start(countPerValue(false));
    for (const v of ['a', 'b', 'a', 'a']) await d.inputTopic('in').pipe(null, v);
    const out = d.outputTopic('out', stringSerde, countSerde).readRecords();
    expect(out.map((r) => [r.key, r.value])).toEqual([['a', 1], ['b', 1], ['a', 2], ['a', 3]]);
    expect(await d.getKeyValueStore<number>('counts').get('a')).toBe(3);
  });

  it('count with caching emits one coalesced update per key per commit', async () => {
    const d = await start(countPerValue(true), { commitEveryRecords: 0 });
    for (const v of ['a', 'b', 'a', 'a']) await d.inputTopic('in').pipe(null, v);
    expect(d.readAll('out')).toHaveLength(0);
    await d.commit();
    const out = d.outputTopic('out', stringSerde, countSerde).readRecords();
    expect(out.map((r) => [r.key, r.value])).toEqual([['b', 1], ['a', 3]]);
    await d.inputTopic('in').pipe(null, 'b');
    await d.commit();
    expect(d.outputTopic('out', stringSerde, countSerde).readRecords().slice(-1).map((r) => [r.key, r.value])).toEqual([['b', 2]]);
  });

  it('writes one changelog record per flushed key to <app>-<store>-changelog', async () => {
    const d = await start(countPerValue(true), { commitEveryRecords: 0, applicationId: 'app' });
    for (const v of ['a', 'a', 'a']) await d.inputTopic('in').pipe(null, v);
    await d.commit();
    const changelog = d.readAll('app-counts-changelog');
    expect(changelog).toHaveLength(1);
    expect(JSON.parse(changelog[0]?.value?.toString() ?? '')).toBe(3);
  });

  it('repartitions by the new key so each key is counted by exactly one task', async () => {
    const d = await start(countPerValue(false), { partitions: { in: 4 }, applicationId: 'app' });
    const values = ['a', 'b', 'c', 'd', 'e', 'a', 'b', 'a'];
    for (const [i, v] of values.entries()) await d.inputTopic('in').pipe(`k${i}`, v);
    const repartitioned = d.readAll('app-counts-repartition');
    expect(repartitioned).toHaveLength(values.length);
    const partitionOf = new Map<string, number>();
    for (const r of repartitioned) {
      const key = r.key?.toString() ?? '';
      expect(partitionOf.get(key) ?? r.partition).toBe(r.partition);
      partitionOf.set(key, r.partition);
    }
    let a = 0;
    for (let p = 0; p < 4; p++) a += (await d.getKeyValueStore<number>('counts', p).get('a')) ?? 0;
    expect(a).toBe(3);
  });

  it('aggregate folds values with the initializer and aggregator', async () => {
    const builder = new StreamsBuilder();
    builder
      .stream('in', { valueSerde: jsonSerde<{ user: string; amount: number }>() })
      .selectKey((_k, v) => v.user)
      .groupByKey()
      .aggregate(() => ({ total: 0, n: 0 }), (_k, v, agg) => ({ total: agg.total + v.amount, n: agg.n + 1 }), { name: 'totals', caching: false })
      .toStream()
      .to('out', { valueSerde: jsonSerde() });
    const d = await start(builder.build());
    const input = d.inputTopic('in', stringSerde, jsonSerde<{ user: string; amount: number }>());
    await input.pipe(null, { user: 'u1', amount: 5 });
    await input.pipe(null, { user: 'u1', amount: 7 });
    expect(await d.getKeyValueStore('totals').get('u1')).toEqual({ total: 12, n: 2 });
  });

  it('reduce combines values of a key', async () => {
    const builder = new StreamsBuilder();
    builder
      .stream('in')
      .groupByKey()
      .reduce((a, b) => (a > b ? a : b), { name: 'max', caching: false })
      .toStream()
      .to('out');
    const d = await start(builder.build());
    for (const v of ['m', 'z', 'c']) await d.inputTopic('in').pipe('k', v);
    expect(d.outputTopic('out').readValues()).toEqual(['m', 'z', 'z']);
  });

  it('keeps state on disk: a new driver on the same state dir continues the counts', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const stateDir = await mkdtemp(join(tmpdir(), 'tally-restart-'));
    try {
      const first = await TopologyTestDriver.create(countPerValue(true), { stateDir });
      for (const v of ['a', 'a']) await first.inputTopic('in').pipe(null, v);
      await first.close();
      driver = await TopologyTestDriver.create(countPerValue(true), { stateDir });
      await driver.inputTopic('in').pipe(null, 'a');
      expect(driver.outputTopic('out', stringSerde, countSerde).readValues()).toEqual([3]);
    } finally {
      await driver?.close();
      driver = undefined;
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
