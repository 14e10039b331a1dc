/**
 * The runtime's backstop: a record whose processing throws goes to its
 * source's dead-letter topic (reason processing-failed) and the task carries
 * on; an outage, a state store failure or a source without a dead-letter
 * topic still stops it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StateStoreError, TallyError, jsonSerde, stringSerde, type DeadLetterRecord } from '../../schemas/index.js';
import { TopologyBuilder, TopologyTestDriver, errorHeaders, processingFailureCount, type Processor, type ProcessorContext } from '../../topology/index.js';

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close().catch(() => undefined);
  driver = undefined;
});

/** in → fragile (throws `failure()` on the value "poison") → out; the store counts what it saw. */
function fragileTopology(options: { applicationId: string; deadLetterTopic?: string; failure?: () => unknown }) {
  const builder = new TopologyBuilder();
  builder.addSource('in-source', ['in'], { keySerde: stringSerde, valueSerde: stringSerde, ...(options.deadLetterTopic === undefined ? {} : { deadLetterTopic: options.deadLetterTopic }) });
  builder.addProcessor(
    'fragile',
    () => {
      let context: ProcessorContext<string, string>;
      return {
        init(ctx) {
          context = ctx;
        },
        async process(record) {
          if (record.value === 'poison') throw (options.failure ?? (() => new TypeError('cannot read "poison"')))();
          await context.forward(record.withValue(record.value.toUpperCase()));
        },
      } satisfies Processor<string, string, string, string>;
    },
    ['in-source'],
  );
  builder.addSink('out-sink', 'out', ['fragile'], { keySerde: stringSerde, valueSerde: stringSerde });
  return builder.build();
}

async function pipeAll(topology: ReturnType<typeof fragileTopology>, applicationId: string, values: readonly string[]): Promise<TopologyTestDriver> {
  driver = await TopologyTestDriver.create(topology, { applicationId });
  const input = driver.inputTopic<string, string>('in');
  for (const [i, value] of values.entries()) await input.pipe(`k${i}`, value, { timestampMs: 1_000 + i, headers: { origin: 'test' } });
  return driver;
}

describe('the runtime backstop', () => {
  it('dead-letters the record whose processing throws, with its coordinates, and processes the next ones', async () => {
    const app = 'backstop-dead-letter';
    const before = processingFailureCount(app);
    const d = await pipeAll(fragileTopology({ applicationId: app, deadLetterTopic: 'dlq' }), app, ['a', 'poison', 'b']);
    expect(d.outputTopic<string, string>('out').readValues()).toEqual(['A', 'B']);
    const [dead, ...more] = d.readAll('dlq');
    expect(more).toEqual([]);
    expect(dead?.key?.toString()).toBe('k1');
    const value = jsonSerde<DeadLetterRecord>().deserialize(dead?.value as Buffer);
    expect(value).toEqual({
      reason: 'processing-failed',
      message: 'processing in-0@1 in node "fragile" failed: cannot read "poison"',
      topic: 'in',
      partition: 0,
      offset: '1',
      timestamp: new Date(1_001).toISOString(),
      key: Buffer.from('k1').toString('base64'),
      value: Buffer.from('poison').toString('base64'),
    });
    expect(dead?.headers).toMatchObject({
      origin: 'test',
      [errorHeaders.code]: 'processing-failed',
      [errorHeaders.topic]: 'in',
      [errorHeaders.partition]: '0',
      [errorHeaders.offset]: '1',
      [errorHeaders.node]: 'fragile',
    });
    expect(processingFailureCount(app) - before).toBe(1);
  });

  it('names the innermost node: a key that cannot be stored fails in the processor that stores it', async () => {
    const app = 'backstop-store-key';
    const builder = new TopologyBuilder();
    // JSON keeps a lone surrogate as an escape (UTF-8 text would turn it into U+FFFD).
    builder.addSource('in-source', ['in'], { keySerde: stringSerde, valueSerde: jsonSerde<string>(), deadLetterTopic: 'dlq' });
    builder.addProcessor('rekey', () => {
      let context: ProcessorContext<string, string>;
      return { init: (ctx) => void (context = ctx), process: (record) => context.forward(record.withKey(record.value)) } satisfies Processor<string, string, string, string>;
    }, ['in-source']);
    builder.addProcessor('remember', () => {
      let store: ReturnType<ProcessorContext['getKeyValueStore']>;
      return { init: (ctx) => void (store = ctx.getKeyValueStore('seen')), process: (record) => store.put(record.key as string, 1) } satisfies Processor<string, string, never, never>;
    }, ['rekey']);
    builder.addStateStore({ name: 'seen', kind: 'keyValue', persistent: false, caching: false, logging: false, valueSerde: jsonSerde<number>() }, 'remember');
    driver = await TopologyTestDriver.create(builder.build(), { applicationId: app });
    const input = driver.inputTopic<string, string>('in', stringSerde, jsonSerde<string>());
    await input.pipe('k', 'c0\ud800');
    await input.pipe('k', 'fine');
    const dead = jsonSerde<DeadLetterRecord>().deserialize(driver.readAll('dlq')[0]?.value as Buffer);
    expect(dead).toMatchObject({ reason: 'processing-failed', message: expect.stringContaining('in node "remember" failed: store key "c0\\ud800" contains a lone UTF-16 surrogate') });
    expect(await driver.getKeyValueStore<number>('seen').get('fine')).toBe(1);
    expect(processingFailureCount(app)).toBe(1);
  });

  it('still fails on a source without a dead-letter topic', async () => {
    await expect(pipeAll(fragileTopology({ applicationId: 'backstop-none' }), 'backstop-none', ['a', 'poison'])).rejects.toMatchObject({ code: 'processing-failed' });
    expect(processingFailureCount('backstop-none')).toBe(0);
  });

  it.each([
    ['a retriable error (an outage: the record is retried later)', () => new TallyError('schema-registry-unavailable', 'registry down', { retriable: true }), 'schema-registry-unavailable'],
    ['a state store error', () => new StateStoreError('state-closed', 'store closed'), 'state-closed'],
    ['a LevelDB error', () => Object.assign(new Error('IO error: disk full'), { code: 'LEVEL_IO_ERROR' }), 'processing-failed'],
  ])('does not dead-letter %s: it still stops the task', async (_what, failure, code) => {
    const app = `backstop-${code}`;
    const topology = fragileTopology({ applicationId: app, deadLetterTopic: 'dlq', failure });
    await expect(pipeAll(topology, app, ['poison'])).rejects.toMatchObject({ code });
    expect(driver?.readAll('dlq') ?? []).toEqual([]);
    expect(processingFailureCount(app)).toBe(0);
  });
});
