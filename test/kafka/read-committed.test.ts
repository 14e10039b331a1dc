/**
 * read_committed as Tally reads it (kafkajs, patched) against Kafka's Java
 * consumer, on a real broker. Several transactional producers interleave in
 * one partition and abort in an order that differs from where their
 * transactions began, which is how the broker then lists them; on a compacted
 * topic the log cleaner then removes the aborted records, and the producer's
 * last aborted batch stays behind as a bare header that ends a cleaned segment.
 * Tally's runtime must read past it: a restoration stuck there never ends.
 */
import { rm } from 'node:fs/promises';
import type { Kafka, Producer, Transaction } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { stringSerde } from '../../schemas/index.js';
import type { ReadOnlyKeyValueStore } from '../../state/index.js';
import { decodeKey, encodeKey } from '../../state/key-codec.js';
import { StreamsBuilder } from '../../topology/index.js';
import { createApp } from '../../topology/kafka/index.js';
import { brokers, createTopics, kafkaClient, tempStateDir, uniqueName, waitFor } from './kafka-helpers.js';
import { readLikeTally, readWithJava } from './read-committed-readers.js';

type Step = { send: string; key: string; value: string } | { commit: string } | { abort: string } | { plain: string; value: string };

/**
 * Producers A, B, C, D interleave; C aborts before A although A began first,
 * so the broker lists C's aborted transaction before A's. D's aborted record is
 * the last thing written before its marker.
 */
const steps: readonly Step[] = [
  { send: 'A', key: 'k1', value: 'a1-aborted' }, // 0
  { send: 'B', key: 'k2', value: 'b1' }, // 1
  { send: 'C', key: 'k1', value: 'c1-aborted' }, // 2
  { send: 'A', key: 'k3', value: 'a2-aborted' }, // 3
  { plain: 'k4', value: 'n1' }, // 4
  { abort: 'C' }, // 5
  { send: 'B', key: 'k1', value: 'b2' }, // 6
  { commit: 'B' }, // 7
  { abort: 'A' }, // 8
  { send: 'B', key: 'k2', value: 'b3' }, // 9
  { commit: 'B' }, // 10
  { send: 'C', key: 'k5', value: 'c2' }, // 11
  { commit: 'C' }, // 12
  { send: 'D', key: 'k6', value: 'd1-aborted' }, // 13
  { abort: 'D' }, // 14
];
const abortedValues = ['a1-aborted', 'c1-aborted', 'a2-aborted', 'd1-aborted'];

/** Writes `steps` to partition 0 of `topic`, pausing `pauseMs` after each (to roll segments); `keyOf` encodes keys. */
async function writeSteps(kafka: Kafka, topic: string, pauseMs: number, keyOf: (key: string) => string | Buffer = (key) => key): Promise<void> {
  const producers = new Map<string, Producer>();
  const open = new Map<string, Transaction>();
  const plain = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await plain.connect();
  const producer = async (name: string): Promise<Producer> => {
    let p = producers.get(name);
    if (p === undefined) {
      p = kafka.producer({ transactionalId: uniqueName(`read-committed-${name}`), idempotent: true, maxInFlightRequests: 1 });
      await p.connect();
      producers.set(name, p);
    }
    return p;
  };
  try {
    for (const step of steps) {
      if ('send' in step) {
        let transaction = open.get(step.send);
        if (transaction === undefined) {
          transaction = await (await producer(step.send)).transaction();
          open.set(step.send, transaction);
        }
        await transaction.send({ topic, acks: -1, messages: [{ key: keyOf(step.key), value: step.value, partition: 0 }] });
      } else if ('plain' in step) {
        await plain.send({ topic, acks: -1, messages: [{ key: keyOf(step.plain), value: step.value, partition: 0 }] });
      } else {
        const name = 'commit' in step ? step.commit : step.abort;
        const transaction = open.get(name);
        if (transaction === undefined) throw new Error(`no open transaction of ${name}`);
        open.delete(name);
        await ('commit' in step ? transaction.commit() : transaction.abort());
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  } finally {
    for (const p of [plain, ...producers.values()]) await p.disconnect();
  }
}

/**
 * A compacted one-partition topic holding `steps`, after the log cleaner ran:
 * D's aborted batch is a bare header at the end of the cleaned segment, and
 * D's abort marker alone in the active segment.
 */
async function createCompactedTopicWithEmptiedBatch(kafka: Kafka, topic: string, keyOf?: (key: string) => string | Buffer): Promise<void> {
  await createTopics({ [topic]: 1 }, [
    { name: 'cleanup.policy', value: 'compact' },
    // Every write after 100 ms opens a new segment: D's abort marker opens the active one, which
    // the cleaner never touches, so D's emptied batch ends the cleaned segment before it.
    { name: 'segment.ms', value: '100' },
    { name: 'min.cleanable.dirty.ratio', value: '0.01' },
    { name: 'min.compaction.lag.ms', value: '0' },
  ]);
  await writeSteps(kafka, topic, 150, keyOf);
  // The cleaner has run once the aborted records are gone even for a read_uncommitted reader.
  await waitFor(
    `the log cleaner to remove the aborted records of ${topic}`,
    async () => {
      const everything = await readWithJava(topic, 0, 'read_uncommitted');
      return !everything.records.some((r) => abortedValues.includes(r.value ?? ''));
    },
    90_000,
  );
}

/**
 * Java's read_committed reads `expectedValues` (checked by hand, so the scenario is what
 * it claims) to the partition's end; Tally's kafkajs reads the very same records to the same end.
 */
async function expectSameReads(kafka: Kafka, topic: string, expectedValues: readonly string[]): Promise<void> {
  const java = await readWithJava(topic, 0, 'read_committed');
  expect(java.records.map((r) => r.value)).toEqual(expectedValues);
  expect(java.end).toBe(steps.length);
  const tally = await readLikeTally(kafka, topic, 0);
  expect(tally.records).toEqual(java.records);
  expect(tally.end).toBe(java.end);
}

const quiet = { info: () => undefined, warn: () => undefined, error: (m: string) => console.error(m) };

describe('read_committed in Tally (patched kafkajs) and in the Java consumer', () => {
  it('reads the same records of interleaved transactions aborted out of first-offset order', async () => {
    const kafka = kafkaClient('read-committed-test');
    const topic = uniqueName('read-committed');
    await createTopics({ [topic]: 1 });
    await writeSteps(kafka, topic, 0);

    await expectSameReads(kafka, topic, ['b1', 'n1', 'b2', 'b3', 'c2']);
  }, 120_000);

  it('reads a compacted topic to its end past a batch the cleaner emptied, with the same records', async () => {
    const kafka = kafkaClient('read-committed-test');
    const topic = uniqueName('read-committed-compacted');
    await createCompactedTopicWithEmptiedBatch(kafka, topic);

    // Compaction also removed b1, k2's older committed value.
    await expectSameReads(kafka, topic, ['n1', 'b2', 'b3', 'c2']);
  }, 180_000);

  it('restores a store from such a changelog, becomes ready, and holds what the Java consumer reads', async () => {
    const kafka = kafkaClient('read-committed-test');
    const applicationId = uniqueName('restore-emptied');
    const input = uniqueName('restore-emptied-input');
    await createTopics({ [input]: 1 });
    // A store's changelog holds its keys in the store's own encoding.
    await createCompactedTopicWithEmptiedBatch(kafka, `${applicationId}-values-changelog`, encodeKey);
    const java = await readWithJava(`${applicationId}-values-changelog`, 0, 'read_committed');
    const expected = Object.fromEntries(java.records.map((r) => [decodeKey(Buffer.from(r.key ?? '')), r.value]));
    expect(expected).toEqual({ k1: 'b2', k2: 'b3', k4: 'n1', k5: 'c2' });

    const builder = new StreamsBuilder();
    builder.table<string>(input, { name: 'values', valueSerde: stringSerde });
    const stateDir = await tempStateDir();
    const app = createApp(builder.build(), { applicationId, brokers: brokers(), stateDir, processingGuarantee: 'exactly_once', commitIntervalMs: 100, logger: quiet });
    try {
      await app.start();
      await waitFor('the app to restore its store and be ready', () => app.ready, 30_000);
      const restored = await app.readLocalStores<ReadOnlyKeyValueStore<string>, Record<string, string>>('values', async (stores) => {
        const entries: Record<string, string> = {};
        for (const { store } of stores) for await (const { key, value } of store.all()) entries[key] = value;
        return entries;
      });
      expect(restored).toEqual(expected);
    } finally {
      await app.close();
      await rm(stateDir, { recursive: true, force: true });
    }
  }, 180_000);
});
