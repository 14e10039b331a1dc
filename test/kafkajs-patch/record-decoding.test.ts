/**
 * The patched record decoder reads the timestamp delta as a number when it
 * fits and adds timestamps and offsets in numbers when that is exact. Every
 * record it returns must equal what kafkajs 2.2.4's own decoders (`original/`)
 * return for the same bytes: offsets and timestamps as the same strings,
 * keys, values, headers, batch context.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { LongClass, seededRandom, type Long } from './produce-internals.js';

const require = createRequire(import.meta.url);

interface Encoder {
  readonly buffer: Buffer;
  writeVarLong(value: Long | number): Encoder;
}
type DecoderClass = new (buffer: Buffer) => { readVarLong(): Long; readVarLongNumber?(): number | Long; offset: number };
type BatchDecoder = (decoder: unknown) => Promise<Record<string, unknown> & { records: Record<string, unknown>[] }>;

const OriginalEncoder = require('./original/encoder.cjs') as new () => Encoder;
const encodeRecord = require('./original/record-v0.cjs') as (options: Record<string, unknown>) => unknown;
const { RecordBatch } = require('./original/record-batch-v0.cjs') as { RecordBatch: (options: Record<string, unknown>) => Promise<Encoder> };
const original = { Decoder: require('./original/decoder.cjs') as DecoderClass, decodeBatch: require('./original/record-batch-v0-decoder.cjs') as BatchDecoder };
const patched = { Decoder: require('kafkajs/src/protocol/decoder') as DecoderClass, decodeBatch: require('kafkajs/src/protocol/recordBatch/v0/decoder') as BatchDecoder };
const { Types: CompressionTypes } = require('kafkajs/src/protocol/message/compression') as { Types: { None: number; GZIP: number } };

const attributesPosition = 8 + 4 + 4 + 1 + 4;

interface BatchOptions {
  firstOffset?: string;
  firstTimestamp?: string;
  records: { key?: string | null; value?: string | null; timestampDelta?: number | Long; headers?: Record<string, string | string[]> }[];
  compression?: number;
  /** Attribute bits to set after encoding (LOG_APPEND_TIME 0x08, control 0x20); the decoder does not check the CRC. */
  extraAttributes?: number;
  maxTimestamp?: string;
}

async function batchBytes(options: BatchOptions): Promise<Buffer> {
  const records = options.records.map((r, i) => encodeRecord({ offsetDelta: i, timestampDelta: r.timestampDelta ?? 0, key: r.key === undefined ? Buffer.from(`k${i}`) : r.key, value: r.value === undefined ? Buffer.from(`v${i}`) : r.value, headers: r.headers ?? {} }));
  const encoded = await RecordBatch({
    compression: options.compression ?? CompressionTypes.None,
    firstOffset: LongClass.fromValue(options.firstOffset ?? '0'),
    firstTimestamp: options.firstTimestamp ?? '1700000000000',
    maxTimestamp: options.maxTimestamp ?? '1700000009999',
    lastOffsetDelta: records.length - 1,
    transactional: true,
    producerId: LongClass.fromValue(77),
    records,
  });
  const buffer = Buffer.from(encoded.buffer);
  if (options.extraAttributes !== undefined) buffer.writeInt16BE(buffer.readInt16BE(attributesPosition) | options.extraAttributes, attributesPosition);
  return buffer;
}

async function expectSameRecords(options: BatchOptions): Promise<void> {
  const bytes = await batchBytes(options);
  const expected = await original.decodeBatch(new original.Decoder(bytes));
  const actual = await patched.decodeBatch(new patched.Decoder(bytes));
  expect(actual).toEqual(expected);
  expect(actual.records.length).toBe(options.records.length);
}

describe('patched record decoding: same records as kafkajs 2.2.4', () => {
  it('plain records: keys, null keys and values, string timestamps and offsets', async () => {
    await expectSameRecords({ records: Array.from({ length: 300 }, (_, i) => ({ timestampDelta: i * 7, key: i % 10 === 0 ? null : `key-${i}`, value: i % 13 === 0 ? null : `value-${i}` })) });
  });

  it('negative and large timestamp deltas, up to 7-byte varlongs and past them (8, 9 and 10 bytes, read as Long)', async () => {
    const deltas = [0, -1, 1, -64, 64, 2 ** 20, -(2 ** 31), 2 ** 47, -(2 ** 48), 2 ** 48 - 1, 2 ** 48, 2 ** 49, -(2 ** 49) - 3, 2 ** 52 + 1, LongClass.fromValue('4611686018427387903'), LongClass.fromValue('-9223372036854775808')];
    await expectSameRecords({ firstTimestamp: '1700000000000', records: deltas.map((timestampDelta) => ({ timestampDelta })) });
    await expectSameRecords({ firstTimestamp: '0', records: deltas.map((timestampDelta) => ({ timestampDelta })) });
  });

  it('offsets and timestamps near and past 2^53 (the sum leaves the safe range: Long way)', async () => {
    await expectSameRecords({ firstOffset: String(2 ** 53 - 5), firstTimestamp: String(2 ** 53 - 3), records: Array.from({ length: 10 }, (_, i) => ({ timestampDelta: i })) });
    await expectSameRecords({ firstOffset: '9223372036854775000', firstTimestamp: '-9223372036854775000', records: Array.from({ length: 5 }, (_, i) => ({ timestampDelta: -i })) });
    await expectSameRecords({ firstOffset: '-1', firstTimestamp: '-1', records: [{ timestampDelta: -5 }, { timestampDelta: 3 }] });
  });

  it('LOG_APPEND_TIME batches (the max timestamp for every record) and control batches', async () => {
    await expectSameRecords({ extraAttributes: 0x08, maxTimestamp: '1700000123456', records: [{ timestampDelta: 5 }, { timestampDelta: 2 ** 50 }] });
    await expectSameRecords({ extraAttributes: 0x20, records: [{ key: '\u0000\u0000\u0000\u0001', value: '\u0000\u0000\u0000\u0000\u0000\u0000' }] });
  });

  it('headers, repeated names (arrays), multi-byte text', async () => {
    await expectSameRecords({ records: [{ headers: { a: 'b', é: ['1', '2', '3'] } }, { headers: { '': '' }, key: 'ünï', value: '🙂' }] });
  });

  it('compressed (GZIP) batches', async () => {
    await expectSameRecords({ compression: CompressionTypes.GZIP, firstOffset: '12345', records: Array.from({ length: 50 }, (_, i) => ({ timestampDelta: i * 1000 - 20_000 })) });
  });

  it('batches one after another with different bases (the cached base is replaced)', async () => {
    for (const [firstOffset, firstTimestamp] of [['0', '1700000000000'], ['256', '1700000000000'], ['256', '1700000000256'], ['0', '1700000000000'], [String(2 ** 53), '5']]) {
      await expectSameRecords({ firstOffset, firstTimestamp, records: [{ timestampDelta: 1 }, { timestampDelta: 2 }] });
    }
  });

  it('readVarLongNumber reads every varlong as readVarLong does, and leaves the decoder where readVarLong does', () => {
    const random = seededRandom(99);
    const values: (Long | number)[] = [0, -1, 1, 2 ** 48 - 1, -(2 ** 48), 2 ** 48, -(2 ** 48) - 1];
    for (let i = 0; i < 2_000; i++) {
      const magnitude = Math.floor(random() * 2 ** Math.floor(random() * 53));
      values.push(random() < 0.5 ? magnitude : -magnitude);
    }
    values.push(LongClass.fromValue('9223372036854775807'), LongClass.fromValue('-9223372036854775808'));
    const encoder = new OriginalEncoder();
    for (const value of values) encoder.writeVarLong(value);
    const bytes = Buffer.from(encoder.buffer);
    const expected = new original.Decoder(bytes);
    const actual = new patched.Decoder(bytes);
    for (let i = 0; i < values.length; i++) {
      const want = expected.readVarLong().value.toString();
      const got = (actual.readVarLongNumber as () => number | Long).call(actual);
      expect(typeof got === 'number' ? String(got) : got.value.toString()).toBe(want);
      expect(actual.offset).toBe(expected.offset);
    }
  });
});
