import { afterEach, describe, expect, it } from 'vitest';
import { jsonSerde } from '../../schemas/index.js';
import { StreamsBuilder, TopologyBuilder, TopologyTestDriver, errorHeaders, type Topology } from '../../topology/index.js';

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

async function run(topology: Topology, inputs: [string | null, string][], options = {}) {
  driver = await TopologyTestDriver.create(topology, options);
  const input = driver.inputTopic<string, string>('in');
  for (const [i, [key, value]] of inputs.entries()) await input.pipe(key, value, { timestampMs: 1000 + i });
  return driver.outputTopic<string, string>('out').readRecords();
}

describe('stateless operators', () => {
  it('filter keeps matching records and filterNot drops them', async () => {
    const builder = new StreamsBuilder();
    const stream = builder.stream('in');
    stream.filter((_k, v) => v.startsWith('a')).to('out');
    stream.filterNot((_k, v) => v.startsWith('a')).to('other');
    const out = await run(builder.build(), [['k', 'apple'], ['k', 'banana'], ['k', 'avocado']]);
    expect(out.map((r) => r.value)).toEqual(['apple', 'avocado']);
    expect(driver?.outputTopic('other').readValues()).toEqual(['banana']);
  });

  it('map changes key and value; mapValues keeps the key', async () => {
    const builder = new StreamsBuilder();
    builder
      .stream('in')
      .map((k, v) => ({ key: `${k}!`, value: v.length }))
      .mapValues((n) => String(n * 10))
      .to('out');
    const out = await run(builder.build(), [['a', 'xyz'], ['b', 'hello']]);
    expect(out.map((r) => [r.key, r.value])).toEqual([['a!', '30'], ['b!', '50']]);
  });

  it('flatMap emits zero or more records per input, keeping the timestamp', async () => {
    const builder = new StreamsBuilder();
    builder
      .stream('in')
      .flatMap((k, v) => v.split(' ').filter(Boolean).map((word) => ({ key: k, value: word })))
      .to('out');
    const out = await run(builder.build(), [['k', 'one two'], ['k', ''], ['k', 'three']]);
    expect(out.map((r) => r.value)).toEqual(['one', 'two', 'three']);
    expect(out.map((r) => r.timestampMs)).toEqual([1000, 1000, 1002]);
  });

  it('selectKey re-keys records and peek sees each one without changing it', async () => {
    const seen: string[] = [];
    const builder = new StreamsBuilder();
    builder
      .stream('in')
      .selectKey((_k, v) => v.toUpperCase())
      .peek((k) => seen.push(k))
      .to('out');
    const out = await run(builder.build(), [[null, 'x'], ['k', 'y']]);
    expect(out.map((r) => r.key)).toEqual(['X', 'Y']);
    expect(seen).toEqual(['X', 'Y']);
  });

  it('to() serializes with the given serdes and sends to the partition of the key', async () => {
    const builder = new StreamsBuilder();
    builder
      .stream('in')
      .mapValues((v) => ({ text: v }))
      .to('out', { valueSerde: jsonSerde<{ text: string }>() });
    const out = await run(builder.build(), [['user-1', 'a'], ['user-2', 'b'], ['user-1', 'c']], { partitions: { out: 4 } });
    expect(out.map((r) => JSON.parse(r.value ?? 'null'))).toEqual([{ text: 'a' }, { text: 'b' }, { text: 'c' }]);
    expect(out[0]?.partition).toBe(out[2]?.partition);
    expect(new Set(out.map((r) => r.partition)).size).toBeGreaterThanOrEqual(1);
  });

  it('sends a record that cannot be deserialized to the dead-letter topic with the reason and its coordinates', async () => {
    const builder = new StreamsBuilder();
    builder.stream('in', { valueSerde: jsonSerde<{ n: number }>(), deadLetterTopic: 'dlq' }).mapValues((v) => String(v.n)).to('out');
    driver = await TopologyTestDriver.create(builder.build());
    await driver.pipeRaw('in', Buffer.from('k'), Buffer.from('{"n": 1}'));
    await driver.pipeRaw('in', Buffer.from('k'), Buffer.from('{not json'));
    await driver.pipeRaw('in', Buffer.from('k'), Buffer.from('{"n": 2}'));
    expect(driver.outputTopic('out').readValues()).toEqual(['1', '2']);
    const [dead] = driver.readAll('dlq');
    expect(dead?.value?.toString()).toBe('{not json');
    expect(dead?.headers[errorHeaders.code]).toBe('deserialization-failed');
    expect(dead?.headers[errorHeaders.offset]).toBe('1');
    expect(dead?.headers[errorHeaders.topic]).toBe('in');
  });

  it('fails loudly on an undeserializable record when no dead-letter topic is configured', async () => {
    const builder = new StreamsBuilder();
    builder.stream('in', { valueSerde: jsonSerde() }).to('out');
    driver = await TopologyTestDriver.create(builder.build());
    await expect(driver.pipeRaw('in', null, Buffer.from('nope'))).rejects.toThrow(/cannot deserialize record in-0@0 in source/);
  });

  it('forwards to one named child only when asked', async () => {
    const topology = new TopologyBuilder()
      .addSource('in', ['in'])
      .addProcessor('router', () => {
        let ctx: import('../../topology/index.js').ProcessorContext;
        return {
          init: (c) => {
            ctx = c;
          },
          process: (r) => ctx.forward(r, String(r.value).startsWith('x') ? 'to-x' : 'to-y'),
        };
      }, ['in'])
      .addSink('to-x', 'x', ['router'])
      .addSink('to-y', 'y', ['router'])
      .build();
    driver = await TopologyTestDriver.create(topology);
    for (const v of ['x1', 'y1', 'x2']) await driver.pipeRaw('in', null, Buffer.from(v));
    expect(driver.readAll('x').map((r) => r.value?.toString())).toEqual(['x1', 'x2']);
    expect(driver.readAll('y').map((r) => r.value?.toString())).toEqual(['y1']);
  });

  it('wraps a processor failure with the node and record coordinates', async () => {
    const builder = new StreamsBuilder();
    builder
      .stream('in')
      .mapValues(() => {
        throw new Error('boom');
      }, { name: 'exploder' })
      .to('out');
    driver = await TopologyTestDriver.create(builder.build());
    await expect(driver.pipeRaw('in', null, Buffer.from('v'))).rejects.toMatchObject({
      code: 'processing-failed',
      coordinates: { node: 'exploder', topic: 'in', partition: 0, offset: '0' },
    });
  });
});
