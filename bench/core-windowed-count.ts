/**
 * Benchmark of the streams core alone: a windowed count per key (1-minute
 * tumbling windows, 1-minute grace) through the in-process driver, with
 * LevelDB stores and with in-memory stores as the ceiling.
 *
 *   npm run bench:core -- --records 1000000 --keys 10000 --commit-every 1000
 *
 * Prints one line per store kind: records, seconds, records/s, peak RSS.
 */
import { parseArgs } from 'node:util';
import { jsonSerde } from '../schemas/index.js';
import { StreamsBuilder, TimeWindows, TopologyTestDriver, windowedKeySerde } from '../topology/index.js';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    keys: { type: 'string', default: '10000' },
    'commit-every': { type: 'string', default: '1000' },
    'events-per-second': { type: 'string', default: '1000' },
    stores: { type: 'string', default: 'leveldb,memory' },
  },
});

const records = Number(args.records);
const keys = Number(args.keys);
const commitEvery = Number(args['commit-every']);
const eventsPerSecond = Number(args['events-per-second']);

function topology() {
  const builder = new StreamsBuilder();
  builder
    .stream('events')
    .groupByKey()
    .windowedBy(TimeWindows.ofSize(60_000).grace(60_000))
    .count({ name: 'counts', lateTopic: 'late' })
    .toStream()
    .to('counts-out', { keySerde: windowedKeySerde, valueSerde: jsonSerde<number>() });
  return builder.build();
}

async function run(inMemoryStores: boolean): Promise<void> {
  let outputs = 0;
  const driver = await TopologyTestDriver.create(topology(), {
    inMemoryStores,
    commitEveryRecords: commitEvery,
    retainRecords: false,
    onRecord: (r) => {
      if (r.topic === 'counts-out') outputs++;
    },
  });
  const keyBuffers = Array.from({ length: keys }, (_, i) => Buffer.from(`key-${i}`));
  const value = Buffer.from('1');
  let peakRssBytes = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < records; i++) {
    // A pseudo-random key spread, event time advancing at a fixed rate.
    const key = keyBuffers[(i * 7919) % keys] as Buffer;
    await driver.pipeRaw('events', key, value, { timestampMs: Math.floor((i * 1000) / eventsPerSecond) });
    if (i % 100_000 === 0) peakRssBytes = Math.max(peakRssBytes, process.memoryUsage().rss);
  }
  await driver.commit();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  peakRssBytes = Math.max(peakRssBytes, process.memoryUsage().rss);
  await driver.close();
  const kind = inMemoryStores ? 'memory ' : 'leveldb';
  console.log(
    `${kind}  records=${records} keys=${keys} commitEvery=${commitEvery}  ${seconds.toFixed(2)} s  ` +
      `${Math.round(records / seconds).toLocaleString('en-US')} records/s  outputs=${outputs}  peakRss=${Math.round(peakRssBytes / 2 ** 20)} MiB`,
  );
}

console.log(`node ${process.version}, windowed count per key, 1-minute tumbling windows`);
for (const kind of args.stores.split(',')) await run(kind.trim() === 'memory');
