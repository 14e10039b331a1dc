/**
 * The patched produce path writes every Produce request into one buffer of
 * its size, records straight into it. Its bytes must be those kafkajs 2.2.4
 * sends: each case encodes the same request with the published sources
 * (`original/`) and with the installed, patched package, and compares the
 * whole request byte for byte (size, header, topics, partitions, record
 * batches with their CRC, records, headers).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RecordSetBuilder } from '../../topology/kafka/record-set-builder.js';
import { CompressionTypes, encodeProduceRequest, LongClass, original, patched, seededRandom, type ProduceRequestArgs } from './produce-internals.js';

const now = 1_700_000_050_000;

beforeEach(() => {
  // Both encoders take Date.now() for records without a timestamp.
  vi.spyOn(Date, 'now').mockReturnValue(now);
});

afterEach(() => {
  vi.restoreAllMocks();
});

type Message = Record<string, unknown>;

/** A transactional request with one topic and one partition holding `messages`. */
function request(messages: Message[], extra: Partial<ProduceRequestArgs> = {}): ProduceRequestArgs {
  return {
    acks: -1,
    timeout: 30_000,
    transactionalId: 'tally-app-0_1',
    producerId: LongClass.fromValue(4_242),
    producerEpoch: 3,
    topicData: [{ topic: 'tally-meters', partitions: [{ partition: 0, firstSequence: 17, messages }] }],
    ...extra,
  };
}

async function expectSameBytes(args: ProduceRequestArgs): Promise<Buffer> {
  const expected = await encodeProduceRequest(original, args);
  const actual = await encodeProduceRequest(patched, args);
  expect(actual.length).toBe(expected.length);
  expect(actual.equals(expected)).toBe(true);
  return actual;
}

const json = (i: number) => JSON.stringify({ subject: `customer-${i}`, meter: 'api-calls', window: { start: 1_700_000_000_000 + i }, quantity: i });
const ts = (i: number) => String(1_700_000_000_000 + i);

describe('patched produce encoding: same bytes as kafkajs 2.2.4', () => {
  it("string keys and JSON values with empty headers (Tally's output)", async () => {
    const bytes = await expectSameBytes(request(Array.from({ length: 256 }, (_, i) => ({ key: `subject-${i}|api-calls`, value: json(i), headers: {}, timestamp: ts(i) }))));
    expect(bytes.length).toBeGreaterThan(256 * 60);
  });

  it('Buffer keys and values', async () => {
    await expectSameBytes(request(Array.from({ length: 50 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(json(i)), timestamp: ts(i) }))));
  });

  it('null and undefined keys, null values (tombstones), empty keys and values', async () => {
    await expectSameBytes(
      request([
        { key: null, value: 'v', timestamp: ts(0) },
        { value: 'no key', timestamp: ts(1) },
        { key: 'tombstone', value: null, timestamp: ts(2) },
        { key: '', value: '', timestamp: ts(3) },
        { key: Buffer.alloc(0), value: Buffer.alloc(0), timestamp: ts(4) },
        { key: undefined, value: null },
      ]),
    );
  });

  it('multi-byte UTF-8 and lone surrogates in keys, values and header names', async () => {
    await expectSameBytes(
      request([
        { key: 'ünïcødé-🙂', value: '€ 12,50 — 10 ✓', headers: { 'clé-é': 'välue', '🙂': Buffer.from([0xff, 0]) }, timestamp: ts(0) },
        { key: '\ud800 alone', value: 'trail \udc00', timestamp: ts(1) },
      ]),
    );
  });

  it('headers: strings, Buffers, several values per name, empty lists, empty values', async () => {
    await expectSameBytes(
      request([
        { key: 'a', value: 'x', headers: { origin: 'bench' }, timestamp: ts(0) },
        { key: 'b', value: 'x', headers: { trace: Buffer.from('t-1'), tags: ['one', Buffer.from('two'), ''] }, timestamp: ts(1) },
        { key: 'c', value: 'x', headers: { none: [] }, timestamp: ts(2) },
        { key: 'd', value: 'x', headers: { '': '' }, timestamp: ts(3) },
        { key: 'e', value: 'x', headers: Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`h${i}`, `v${i}`])), timestamp: ts(4) },
        { key: 'f', value: 'x', headers: undefined, timestamp: ts(5) },
      ]),
    );
  });

  it('timestamps: none (Date.now), numbers, strings, 0, and first/max chosen as kafkajs sorts them (as strings)', async () => {
    await expectSameBytes(request([{ key: 'a', value: 'x' }, { key: 'b', value: 'y' }]));
    await expectSameBytes(request([{ key: 'a', value: 'x', timestamp: 1_700_000_000_005 }, { key: 'b', value: 'y', timestamp: 1_700_000_000_001 }, { key: 'c', value: 'z' }]));
    // '999' sorts after '1700000000000' as a string: first timestamp 1700000000000, max 999.
    await expectSameBytes(request([{ key: 'a', value: 'x', timestamp: '999' }, { key: 'b', value: 'y', timestamp: ts(0) }, { key: 'c', value: 'z', timestamp: 5 }]));
    // Equal as strings, different as values: the stable sort keeps the first for min, the last for max.
    await expectSameBytes(request([{ key: 'a', value: 'x', timestamp: '100' }, { key: 'b', value: 'y', timestamp: 100 }, { key: 'c', value: 'z', timestamp: '0100' }]));
    // 0 and '' are timestamps to the sort, but `timestamp || now` for the delta.
    await expectSameBytes(request([{ key: 'a', value: 'x', timestamp: 0 }, { key: 'b', value: 'y', timestamp: ts(0) }]));
    // Negative deltas (records out of time order).
    await expectSameBytes(request([{ key: 'a', value: 'x', timestamp: ts(500) }, { key: 'b', value: 'y', timestamp: ts(0) }, { key: 'c', value: 'y', timestamp: '-5' }]));
  });

  it('large values: multi-byte length varints, a 1 MB value, 300 records (offset deltas past one byte)', async () => {
    await expectSameBytes(request([{ key: 'big', value: Buffer.alloc(1 << 20, 7), timestamp: ts(0) }, { key: 'big-string', value: 'x'.repeat(70_000), timestamp: ts(1) }]));
    await expectSameBytes(request(Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, value: 'v'.repeat(i), timestamp: ts(i * 1000) }))));
  });

  it('several topics and partitions, partitions given as strings (as sendMessages passes them), with and without a first sequence', async () => {
    const messages = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: json(i), timestamp: ts(i) }));
    await expectSameBytes({
      acks: -1,
      timeout: 30_000,
      transactionalId: 'tx',
      producerId: LongClass.fromValue(1),
      producerEpoch: 0,
      topicData: [
        { topic: 'out', partitions: [{ partition: '0', firstSequence: 0, messages: messages(3) }, { partition: '7', firstSequence: 2_147_483_000, messages: messages(9) }] },
        { topic: 'tally-app-meters-changelog', partitions: [{ partition: 3, messages: messages(1) }] },
      ],
    });
  });

  it('not transactional (null or absent transactional id), producer id as a number or absent, acks 1', async () => {
    const messages = [{ key: 'k', value: 'v', timestamp: ts(0) }];
    await expectSameBytes(request(messages, { transactionalId: null }));
    await expectSameBytes({ acks: 1, timeout: 5_000, topicData: [{ topic: 't', partitions: [{ partition: 0, messages }] }] });
    await expectSameBytes(request(messages, { producerId: 99, producerEpoch: 0 }));
  });

  it('records the fast path leaves to the general one: Uint8Array values, deltas of 2^52 and more', async () => {
    await expectSameBytes(request([{ key: 'a', value: new Uint8Array([1, 2, 3]), timestamp: ts(0) }, { key: 'b', value: 'fine', timestamp: ts(1) }]));
    await expectSameBytes(request([{ key: 'a', value: 'x', timestamp: 5e15 }, { key: 'b', value: 'y', timestamp: '1' }]));
  });

  it('compression (GZIP): the general path, through the patched Encoder', async () => {
    await expectSameBytes(request(Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: json(i), headers: i % 3 === 0 ? { h: 'v' } : {}, timestamp: ts(i) })), { compression: CompressionTypes.GZIP }));
  });

  it('throws what kafkajs throws: a fractional timestamp, a null or numeric header value, a bad timestamp string, a numeric value', async () => {
    const bad: Message[][] = [
      [{ key: 'a', value: 'x', timestamp: 1.5 }],
      [{ key: 'a', value: 'x', headers: { h: null }, timestamp: ts(0) }],
      [{ key: 'a', value: 'x', headers: { n: 5 }, timestamp: ts(0) }],
      [{ key: 'a', value: 'x', timestamp: 'not a time' }],
      [{ key: 'a', value: 42, timestamp: ts(0) }],
    ];
    for (const messages of bad) {
      const expected = await encodeProduceRequest(original, request(messages)).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      const actual = await encodeProduceRequest(patched, request(messages)).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(expected).toBeInstanceOf(Error);
      expect(actual?.constructor).toBe(expected?.constructor);
      expect(actual?.message).toBe(expected?.message);
    }
  });

  it('random requests: 120 of them, every kind of key, value, header and timestamp mixed', async () => {
    const random = seededRandom(20_260_512);
    const pick = <T>(options: readonly T[]): T => options[Math.floor(random() * options.length)] as T;
    const message = (i: number): Message => ({
      key: pick([null, undefined, `key-${i}`, Buffer.from(`bk${i}`), '', `ké-🙂-${i}`]),
      value: pick([null, 'v'.repeat(Math.floor(random() * 300)), Buffer.alloc(Math.floor(random() * 400), i), json(i), 'y'.repeat(20_000)]),
      headers: pick([undefined, {}, {}, { a: 'b' }, { a: Buffer.from('bb'), é: ['1', Buffer.from('2'), ''] }, { e: [] }]),
      timestamp: pick([undefined, null, ts(Math.floor(random() * 100_000)), 1_700_000_000_000 + Math.floor(random() * 100_000), '999', 0]),
    });
    for (let round = 0; round < 120; round++) {
      const topicData = Array.from({ length: 1 + Math.floor(random() * 3) }, (_, t) => ({
        topic: `topic-${t}`,
        partitions: Array.from({ length: 1 + Math.floor(random() * 4) }, (_, p) => ({
          partition: pick([p, String(p)]),
          firstSequence: pick([undefined, 0, 12_345]),
          messages: Array.from({ length: pick([1, 2, 5, 64, 300]) }, (_, i) => message(i)),
        })),
      }));
      await expectSameBytes({ acks: -1, timeout: 30_000, transactionalId: pick([null, 'tx-é']), producerId: pick([undefined, LongClass.fromValue(4_242), 7]), producerEpoch: pick([undefined, 3]), topicData });
    }
  });
});

/** Tally's form of plain messages: one message per partition carrying the records encoded by RecordSetBuilder. */
interface PlainRecord {
  readonly key: string | null;
  readonly value: string | Buffer | null;
  readonly headers?: Record<string, string>;
  readonly timestamp: number;
}

function encodedForm(messages: readonly PlainRecord[]): Message[] {
  const builder = new RecordSetBuilder();
  for (const { key, value, headers, timestamp } of messages) {
    builder.append(key === null ? null : Buffer.from(key), typeof value === 'string' ? Buffer.from(value) : value, timestamp, headers ?? {});
  }
  return [{ partition: 0, value: null, encodedRecords: builder.finish() }];
}

describe('patched produce encoding: record sets encoded by the caller', () => {
  // kafkajs takes the smallest timestamp as the batch's first; a record set takes its first record's.
  // With timestamps in order the two agree, and the requests must be the same bytes.
  const ascending = (i: number) => 1_700_000_000_000 + i * 1_000;

  it('give the bytes kafkajs 2.2.4 sends for the same records: keys, values, nulls, empties, headers, UTF-8', async () => {
    const records: PlainRecord[] = [
      { key: 'subject-1|api-calls', value: json(1), headers: {}, timestamp: ascending(0) },
      { key: null, value: 'no key', timestamp: ascending(1) },
      { key: 'tombstone', value: null, timestamp: ascending(2) },
      { key: '', value: '', timestamp: ascending(3) },
      { key: 'ünïcødé-🙂', value: '€ 12,50 — 10 ✓', headers: { 'clé-é': 'välue', 'tally.repartition.batch': '1' }, timestamp: ascending(4) },
      { key: 'same-time', value: Buffer.from([0, 255, 7]), timestamp: ascending(4) },
    ];
    const expected = await encodeProduceRequest(original, request(records.map((r) => ({ ...r, timestamp: String(r.timestamp) }))));
    const actual = await encodeProduceRequest(patched, request(encodedForm(records)));
    expect(actual.equals(expected)).toBe(true);
  });

  it('300 records (offset deltas past one byte), 70 kB values, several topics and partitions, transactional or not', async () => {
    const records = (n: number, size: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: 'v'.repeat(size + i), timestamp: ascending(i) }));
    const plain = (list: ReturnType<typeof records>) => list.map((r) => ({ ...r, timestamp: String(r.timestamp) }));
    const big = records(2, 70_000);
    const many = records(300, 0);
    const few = records(3, 10);
    for (const transactionalId of ['tx', null]) {
      const args = (form: (list: ReturnType<typeof records>) => Message[]): ProduceRequestArgs => ({
        acks: -1,
        timeout: 30_000,
        transactionalId,
        producerId: LongClass.fromValue(1),
        producerEpoch: 2,
        topicData: [
          { topic: 'out', partitions: [{ partition: 0, firstSequence: 0, messages: form(many) }, { partition: 7, firstSequence: 2_147_483_000, messages: form(big) }] },
          { topic: 'tally-app-meters-changelog', partitions: [{ partition: 3, firstSequence: 5, messages: form(few) }] },
        ],
      });
      const expected = await encodeProduceRequest(original, args(plain));
      const actual = await encodeProduceRequest(patched, args(encodedForm));
      expect(actual.equals(expected)).toBe(true);
    }
  });

  it('refuses a record set mixed with plain messages in a partition, and with compression', async () => {
    const set = encodedForm([{ key: 'a', value: 'x', timestamp: ascending(0) }]);
    const plainMessage = { key: 'b', value: 'y', timestamp: ts(1) };
    await expect(encodeProduceRequest(patched, request([...set, plainMessage]))).rejects.toThrow('only message of its partition');
    await expect(encodeProduceRequest(patched, request([plainMessage, ...set]))).rejects.toThrow('only message of its partition');
    await expect(encodeProduceRequest(patched, request(set, { compression: CompressionTypes.GZIP }))).rejects.toThrow('without compression');
  });
});
