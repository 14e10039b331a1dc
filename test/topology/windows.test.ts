import { afterEach, describe, expect, it } from 'vitest';
import { jsonSerde } from '../../schemas/index.js';
import { StreamsBuilder, TimeWindows, TopologyTestDriver, lateHeaders, windowedKeySerde, type Topology } from '../../topology/index.js';

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

const minute = 60_000;
const count = jsonSerde<number>();

function windowedCount(windows: TimeWindows, retentionMs?: number): Topology {
  const builder = new StreamsBuilder();
  builder
    .stream('in')
    .groupByKey()
    .windowedBy(windows)
    .count({ name: 'per-window', lateTopic: 'late', caching: false, ...(retentionMs === undefined ? {} : { retentionMs }) })
    .toStream()
    .to('out', { keySerde: windowedKeySerde, valueSerde: count });
  return builder.build();
}

async function pipeAll(topology: Topology, events: [string, number][]) {
  driver = await TopologyTestDriver.create(topology);
  for (const [key, timestampMs] of events) await driver.inputTopic('in').pipe(key, 'x', { timestampMs });
  return {
    out: driver.outputTopic('out', windowedKeySerde, count).readRecords(),
    late: driver.readAll('late'),
  };
}

describe('windowed aggregation', () => {
  it('counts per key in tumbling windows, half-open [start, end)', async () => {
    const { out } = await pipeAll(windowedCount(TimeWindows.ofSize(minute).grace(minute)), [
      ['a', 0],
      ['a', minute - 1],
      ['a', minute],
      ['b', 30_000],
    ]);
    expect(out.map((r) => [r.key?.key, r.key?.window.startMs, r.key?.window.endMs, r.value])).toEqual([
      ['a', 0, minute, 1],
      ['a', 0, minute, 2],
      ['a', minute, 2 * minute, 1],
      ['b', 0, minute, 1],
    ]);
  });

  it('puts a record in every hopping window that holds it', async () => {
    const { out } = await pipeAll(windowedCount(TimeWindows.ofSize(10_000).advanceBy(5_000)), [['a', 12_000]]);
    expect(out.map((r) => [r.key?.window.startMs, r.key?.window.endMs])).toEqual([
      [5_000, 15_000],
      [10_000, 20_000],
    ]);
  });

  it('accepts a record while end + grace > stream time, and sends it to the late topic exactly at the edge', async () => {
    const grace = 10_000;
    // stream time end + grace - 1: the window [0, 1m) is still open
    const open = await pipeAll(windowedCount(TimeWindows.ofSize(minute).grace(grace)), [['a', minute + grace - 1], ['a', 5]]);
    expect(open.late).toHaveLength(0);
    expect(open.out.at(-1)?.key?.window.startMs).toBe(0);
    await driver?.close();
    // stream time exactly end + grace: closed
    const closed = await pipeAll(windowedCount(TimeWindows.ofSize(minute).grace(grace)), [['a', minute + grace], ['a', 5]]);
    expect(closed.out).toHaveLength(1);
    expect(closed.late).toHaveLength(1);
    const late = closed.late[0];
    expect(late?.key?.toString()).toBe('a');
    expect(late?.headers[lateHeaders.windowStart]).toBe('0');
    expect(late?.headers[lateHeaders.windowEnd]).toBe(String(minute));
    expect(late?.headers[lateHeaders.streamTime]).toBe(String(minute + grace));
  });

  it('does not move stream time back on out-of-order records', async () => {
    const { out, late } = await pipeAll(windowedCount(TimeWindows.ofSize(minute).grace(0)), [
      ['a', 5 * minute],
      ['a', 2 * minute + 1],
      ['a', 6 * minute - 1],
      ['a', 4 * minute],
    ]);
    expect(driver?.streamTimeMs(0)).toBe(6 * minute - 1);
    expect(late.map((r) => r.timestampMs)).toEqual([2 * minute + 1, 4 * minute]);
    expect(out.map((r) => r.value)).toEqual([1, 2]);
  });

  it('drops windows past retention from the store but keeps those within it', async () => {
    const size = minute;
    const { out } = await pipeAll(windowedCount(TimeWindows.ofSize(size), 5 * size), [
      ['a', 0],
      ['a', 20 * size],
    ]);
    expect(out).toHaveLength(2);
    const store = driver!.getWindowStore<number>('per-window');
    expect(await store.fetch('a', 0)).toBeUndefined();
    expect(await store.fetch('a', 20 * size)).toBe(1);
  });

  it('with caching, emits window updates coalesced per commit', async () => {
    const builder = new StreamsBuilder();
    builder
      .stream('in')
      .groupByKey()
      .windowedBy(TimeWindows.ofSize(minute).grace(minute))
      .count({ name: 'cached-window', lateTopic: 'late' })
      .toStream()
      .to('out', { keySerde: windowedKeySerde, valueSerde: count });
    driver = await TopologyTestDriver.create(builder.build(), { commitEveryRecords: 0 });
    for (const t of [1, 2, 3, minute + 1]) await driver.inputTopic('in').pipe('k', 'x', { timestampMs: t });
    await driver.commit();
    const out = driver.outputTopic('out', windowedKeySerde, count).readRecords();
    expect(out.map((r) => [r.key?.window.startMs, r.value])).toEqual([
      [0, 3],
      [minute, 1],
    ]);
    expect(driver.readAll('late')).toHaveLength(0);
  });
});
