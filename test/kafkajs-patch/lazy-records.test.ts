/**
 * The patched fetch decoder keeps each uncompressed record batch as bytes and
 * decodes its records when they are read, so that a fetch being processed
 * does not hold every record of it as objects. A batch read that way must
 * hand on exactly what the eager batch (every record decoded first, then
 * filtered) hands on: the same records, offsets, emptiness and resume offset,
 * for every fetched offset, with aborted transactions, markers, batches that
 * compaction emptied and compressed batches; and reading it one record at a
 * time must not decode the whole of it.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { Batch, data, decodeRecordSegments, decodeRecordSet, decodeEncodedBatches, emptied, encodeBatch, lastOffsetOf, marker, type AbortedTransaction, type BatchSpec, type InternalBatch, type InternalMessage } from './kafkajs-internals.js';

const require = createRequire(import.meta.url);
type DecoderClass = new (buffer: Buffer) => unknown;
const original = {
  Decoder: require('./original/decoder.cjs') as DecoderClass,
  decodeBatch: require('./original/record-batch-v0-decoder.cjs') as (decoder: unknown) => Promise<{ records: InternalMessage[] }>,
};

const p1 = 3001;
const p2 = 3002;
const plain = (offset: number, ...values: string[]): BatchSpec => ({ ...data(offset, -1, ...values), transactional: false });
const gzipped = (offset: number, ...values: string[]): BatchSpec => ({ ...plain(offset, ...values), compressed: true });
/** A batch of `count` records whose values vary in size (varint lengths of one and two bytes). */
const wide = (offset: number, count: number): BatchSpec => plain(offset, ...Array.from({ length: count }, (_, i) => `v${offset + i}-${'x'.repeat(i % 300)}`));

/** A partition's log: plain, transactional (committed and aborted), markers, an emptied batch, a compressed one. */
const log: readonly BatchSpec[] = [
  wide(0, 5),
  data(5, p1, 'p1-aborted-a', 'p1-aborted-b'),
  data(7, p2, 'p2-committed'),
  marker(8, p1, 'abort'),
  marker(9, p2, 'commit'),
  emptied(10, 12, p1),
  gzipped(13, 'g13', 'g14', 'g15'),
  data(16, p1, 'p1-committed'),
  marker(17, p1, 'commit'),
  wide(18, 40),
];
const highWatermark = lastOffsetOf(log[log.length - 1] as BatchSpec) + 1;
const abortedTransactions: AbortedTransaction[] = [{ producerId: String(p1), firstOffset: '5' }];

const summary = (batch: InternalBatch) => ({
  messages: batch.messages.map((m) => [m.offset, m.key?.toString() ?? null, m.value?.toString() ?? null]),
  within: batch.messagesWithinOffset.map((m) => m.offset),
  raw: batch.rawMessages.length,
  count: batch.messageCount(),
  isEmpty: batch.isEmpty(),
  isEmptyIncludingFiltered: batch.isEmptyIncludingFiltered(),
  isEmptyDueToFiltering: batch.isEmptyDueToFiltering(),
  isEmptyControlRecord: batch.isEmptyControlRecord(),
  isEmptyDueToLogCompactedMessages: batch.isEmptyDueToLogCompactedMessages(),
  firstOffset: batch.firstOffset(),
  lastOffset: batch.lastOffset(),
  lastMessageOffset: batch.lastMessageOffset(),
});

function readAll(batch: InternalBatch): InternalMessage[] {
  const reader = batch.messageReader();
  const read: InternalMessage[] = [];
  for (let message = reader.next(); message !== null; message = reader.next()) read.push(message);
  return read;
}

async function bothWays(fetchedOffset: number, batches: readonly BatchSpec[], aborted: readonly AbortedTransaction[]): Promise<{ lazy: InternalBatch; eager: InternalBatch }> {
  const partition = { partition: 0, highWatermark: String(highWatermark), abortedTransactions: aborted };
  const lazy = new Batch('topic', String(fetchedOffset), { ...partition, messages: (await decodeRecordSegments(batches)) as unknown as InternalMessage[] });
  const eager = new Batch('topic', String(fetchedOffset), { ...partition, messages: await decodeRecordSet(batches) });
  return { lazy, eager };
}

describe('record batches decoded when read (patched kafkajs)', () => {
  it('hand on what the eager batch hands on, from every fetched offset, with and without aborted transactions', async () => {
    let compared = 0;
    for (const aborted of [abortedTransactions, []]) {
      for (let fetchedOffset = 0; fetchedOffset <= highWatermark; fetchedOffset++) {
        // What a broker returns for that offset: the batches that end at or after it.
        const fetched = log.filter((b) => lastOffsetOf(b) >= fetchedOffset);
        const { lazy, eager } = await bothWays(fetchedOffset, fetched, aborted);
        // The reader first, while the lazy batch has decoded nothing it does not hand on.
        const read = readAll(lazy);
        expect(read.map((m) => m.offset)).toEqual(eager.messages.map((m) => m.offset));
        expect(summary(lazy)).toEqual(summary(eager));
        compared++;
      }
    }
    expect(compared).toBe(2 * (highWatermark + 1));
    // The filters did work: aborted records are gone, markers too, the compressed ones are there.
    const { lazy } = await bothWays(0, log, abortedTransactions);
    const values = lazy.messages.map((m) => m.value?.toString());
    expect(values).not.toContain('p1-aborted-a');
    expect(values).toEqual(expect.arrayContaining(['p2-committed', 'g13', 'g15', 'p1-committed']));
    expect(lazy.messageCount()).toBe(5 + 1 + 3 + 1 + 40);
  });

  it('decode each record as the original kafkajs 2.2.4 decoder does', async () => {
    const encoded = await Promise.all([wide(0, 60), gzipped(60, 'a', 'b'), wide(62, 7)].map(encodeBatch));
    const expected: InternalMessage[] = [];
    for (const bytes of encoded) expected.push(...(await original.decodeBatch(new original.Decoder(bytes))).records);
    const lazy = new Batch('topic', '0', { partition: 0, highWatermark: '69', abortedTransactions: [], messages: (await decodeEncodedBatches(encoded)) as unknown as InternalMessage[] });
    const read = readAll(lazy);
    expect(read).toHaveLength(69);
    expect(read).toEqual(expected);
    // Records of one batch share one context object, as kafkajs gives them.
    expect(read[0]?.batchContext).toBe(read[59]?.batchContext);
    expect(read[0]?.batchContext).not.toBe(read[60]?.batchContext);
  });

  it('read one record at a time without decoding the rest of the batch', async () => {
    const { lazy } = await bothWays(0, [wide(0, 1_000)], []);
    expect(lazy.messageCount()).toBe(1_000);
    expect(lazy.isEmpty()).toBe(false);
    expect(lazy.firstOffset()).toBe('0');
    expect(lazy.lastOffset()).toBe('999');
    expect(lazy.lastMessageOffset()).toBe('999');
    const reader = lazy.messageReader();
    expect(reader.next()?.offset).toBe('0');
    expect(reader.next()?.offset).toBe('1');
    // None of the above decoded the batch's records as a whole: `messages` is still to be made.
    expect(Object.getOwnPropertyDescriptor(lazy, 'messages')?.get).toBeTypeOf('function');
    expect(lazy.messages).toHaveLength(1_000);
    expect(Object.getOwnPropertyDescriptor(lazy, 'messages')?.get).toBeUndefined();
  });
});
