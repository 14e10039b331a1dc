import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { stringSerde } from '../../schemas/index.js';
import { StreamsBuilder, TopologyTestDriver } from '../../topology/index.js';
import { DefaultPartitioner, murmur2, partitionForKey } from '../../topology/internal/partitioner.js';

// kafkajs's own murmur2 is the reference: a key must land where a kafkajs producer puts it.
const kafkajsMurmur2 = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer) => number;

describe('the default partitioner', () => {
  it('hashes exactly like kafkajs for keys of every length up to 64 bytes', () => {
    for (let length = 0; length <= 64; length++) {
      for (let i = 0; i < 50; i++) {
        const key = randomBytes(length);
        expect(murmur2(key)).toBe(kafkajsMurmur2(key));
      }
    }
  });

  it('matches known Kafka murmur2 values', () => {
    // Values from Kafka's UtilsTest#testMurmur2.
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(murmur2(Buffer.from('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(Buffer.from('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
  });

  it('spreads keys over partitions the way Kafka does', () => {
    const key = Buffer.from('acme-prod');
    expect(partitionForKey(key, 8)).toBe((kafkajsMurmur2(key) & 0x7fffffff) % 8);
    expect(partitionForKey(key, 1)).toBe(0);
  });

  it('places a keyed record by its key and keyless ones round-robin, each partitioner on its own', () => {
    const key = Buffer.from('acme-prod');
    const partitioner = new DefaultPartitioner();
    expect([null, key, null, null, null].map((k) => partitioner.partition(k, 3))).toEqual([0, partitionForKey(key, 3), 1, 2, 0]);
    expect(new DefaultPartitioner().partition(null, 3)).toBe(0);
  });
});

describe('a sink with a custom partitioner in the test driver', () => {
  it("is told the sink topic's partition count and puts each record on the partition it chooses", async () => {
    const countsSeen: number[] = [];
    const builder = new StreamsBuilder();
    builder.stream('in', { valueSerde: stringSerde }).to('out', {
      valueSerde: stringSerde,
      partitioner: (_key, value, partitionCount) => {
        countsSeen.push(partitionCount);
        return Number(value) % partitionCount;
      },
    });
    const driver = await TopologyTestDriver.create(builder.build(), { partitions: { in: 2, out: 5 } });
    const values = Array.from({ length: 20 }, (_, n) => String(n));
    for (const value of values) await driver.inputTopic<string, string>('in').pipe(`k${value}`, value);
    const records = driver.outputTopic<string, string>('out').readRecords();
    await driver.close();
    expect(new Set(countsSeen)).toEqual(new Set([5]));
    expect(records.map((r) => [r.value, r.partition])).toEqual(values.map((value) => [value, Number(value) % 5]));
  });
});
