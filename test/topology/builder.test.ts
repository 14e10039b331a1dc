import { describe, expect, it } from 'vitest';
import { jsonSerde } from '../../schemas/index.js';
import { StreamsBuilder, TimeWindows, TopologyBuilder } from '../../topology/index.js';

const noop = () => ({ process: () => undefined });

describe('building a topology', () => {
  it('rejects a duplicate node name, naming the node', () => {
    const builder = new TopologyBuilder().addSource('in', ['input']);
    expect(() => builder.addProcessor('in', noop, ['in'])).toThrow(/node "in" is added twice/);
  });

  it('rejects a parent that does not exist, naming both nodes', () => {
    const builder = new TopologyBuilder().addSource('in', ['input']);
    expect(() => builder.addProcessor('p', noop, ['nope'])).toThrow(/node "p" names parent "nope", which does not exist/);
  });

  it('rejects a processor that uses a store nobody added', () => {
    const builder = new TopologyBuilder().addSource('in', ['input']).addProcessor('p', noop, ['in'], ['missing-store']);
    expect(() => builder.build()).toThrow(/processor "p" uses store "missing-store", which was never added/);
  });

  it('rejects a topology without a source', () => {
    expect(() => new TopologyBuilder().build()).toThrow(/no source/);
  });

  it('rejects a topic read by two sources', () => {
    const builder = new TopologyBuilder().addSource('a', ['input']);
    expect(() => builder.addSource('b', ['input'])).toThrow(/source "b" reads topic "input", which source "a" already reads/);
  });

  it('rejects names that cannot become file or topic names', () => {
    expect(() => new TopologyBuilder().addSource('has space', ['input'])).toThrow(/name "has space" is invalid/);
  });

  it('rejects an internal topic that is read but never written', () => {
    const builder = new TopologyBuilder().addInternalTopic('x-repartition').addSource('in', ['x-repartition']);
    expect(() => builder.build()).toThrow(/reads internal topic "x-repartition", but no sink writes it/);
  });

  it('splits the graph into sub-topologies at repartition topics and keeps store users together', () => {
    const builder = new StreamsBuilder();
    builder
      .stream('events')
      .selectKey((_k, v) => v)
      .groupByKey()
      .count({ name: 'counts' })
      .toStream()
      .to('out');
    const topology = builder.build();
    expect(topology.subtopologies.map((s) => s.sourceTopics)).toEqual([['events'], ['counts-repartition']]);
    expect(topology.subtopologies[1]?.stores.map((s) => s.name)).toEqual(['counts']);
    expect(topology.describe()).toContain('Processor: counts (stores: [counts])');
  });

  it('requires an explicit name for every stateful operation', () => {
    const builder = new StreamsBuilder();
    const grouped = builder.stream('events').groupByKey();
    expect(() => grouped.count({ name: '' })).toThrow(/needs an explicit \{ name \}/);
    expect(() => builder.table('t', { name: undefined as unknown as string })).toThrow(/table\(\) is stateful/);
  });

  it('refuses a window retention shorter than size plus grace', () => {
    const windowed = new StreamsBuilder().stream('events').groupByKey().windowedBy(TimeWindows.ofSize(60_000).grace(10_000));
    expect(() => windowed.count({ name: 'w', lateTopic: 'late', retentionMs: 65_000 })).toThrow(/shorter than window size \+ grace \(70000 ms\)/);
  });

  it('refuses a windowed aggregation without a late topic', () => {
    const windowed = new StreamsBuilder().stream('events').groupByKey().windowedBy(TimeWindows.ofSize(1000));
    expect(() => windowed.count({ name: 'w', lateTopic: '' })).toThrow(/needs a lateTopic/);
  });

  it('names store changelogs and repartition topics after the stateful node, not its position', () => {
    const build = (extraFilter: boolean) => {
      const builder = new StreamsBuilder();
      let stream = builder.stream('events', { valueSerde: jsonSerde<{ k: string }>() });
      if (extraFilter) stream = stream.filter(() => true);
      stream.selectKey((_k, v) => v.k).groupByKey().count({ name: 'per-key' });
      return builder.build();
    };
    const names = (withFilter: boolean) => [...build(withFilter).internalTopics.keys(), ...build(withFilter).stores.keys()];
    expect(names(true)).toEqual(names(false));
    expect(names(false)).toEqual(['per-key-repartition', 'per-key']);
  });
});
