import { describe, expect, it } from 'vitest';
import { RecordBufferPool, RecordSetBuilder } from '../../topology/kafka/record-set-builder.js';
import { decodeRecordSet } from './record-set-decoding.js';

describe('a record set encoded as records are produced', () => {
  it("reads back, through kafkajs's record decoder, as the records appended: keys, values, nulls, headers", () => {
    const builder = new RecordSetBuilder();
    builder.append(Buffer.from('k1'), Buffer.from('{"v":1}'), 1_700_000_000_000, {});
    builder.append(null, Buffer.from('no key'), 1_700_000_000_001, {});
    builder.append(Buffer.from('tombstone'), null, 1_700_000_000_002, {});
    builder.append(Buffer.alloc(0), Buffer.alloc(0), 1_700_000_000_003, { 'tally.repartition.batch': '1', 'clé-é': 'välue 🙂', empty: '' });
    const set = builder.finish();
    expect(set.count).toBe(4);
    expect(set.firstTimestamp).toBe(1_700_000_000_000);
    expect(set.maxTimestamp).toBe(1_700_000_000_003);
    const records = decodeRecordSet(set);
    expect(records.map((r) => [r.key === null ? null : r.key.toString(), r.value === null ? null : r.value.toString(), r.timestampMs, r.offsetDelta])).toEqual([
      ['k1', '{"v":1}', 1_700_000_000_000, 0],
      [null, 'no key', 1_700_000_000_001, 1],
      ['tombstone', null, 1_700_000_000_002, 2],
      ['', '', 1_700_000_000_003, 3],
    ]);
    expect(records[3]?.headers).toEqual({ 'tally.repartition.batch': '1', 'clé-é': 'välue 🙂', empty: '' });
  });

  it('keeps timestamps out of order and far apart exact (negative deltas, deltas past 2^32 ms), and the largest as the max', () => {
    const times = [1_700_000_000_000, 5, 1_700_000_000_000 + 2 ** 40, 0, 1_699_999_999_999];
    const builder = new RecordSetBuilder();
    for (const [i, time] of times.entries()) builder.append(Buffer.from(`k${i}`), Buffer.from('v'), time, {});
    const set = builder.finish();
    expect(set.firstTimestamp).toBe(times[0]);
    expect(set.maxTimestamp).toBe(1_700_000_000_000 + 2 ** 40);
    expect(decodeRecordSet(set).map((r) => r.timestampMs)).toEqual(times);
  });

  it('grows past its first buffer: thousands of records and values of every length-varint size, each read back in order', () => {
    const builder = new RecordSetBuilder();
    const sizes = [0, 1, 63, 64, 127, 128, 8_191, 8_192, 70_000];
    let bytes = 0;
    for (let i = 0; i < 3_000; i++) bytes += builder.append(Buffer.from(`key-${i}`), Buffer.alloc(sizes[i % sizes.length] as number, i % 251), 1_700_000_000_000 + i, {});
    const set = builder.finish();
    expect(set.bytes.length).toBe(bytes);
    expect(builder.byteLength).toBe(bytes);
    const records = decodeRecordSet(set);
    expect(records).toHaveLength(3_000);
    records.forEach((record, i) => {
      expect(record.offsetDelta).toBe(i);
      expect(record.key?.toString()).toBe(`key-${i}`);
      expect(record.value?.length).toBe(sizes[i % sizes.length]);
      if ((record.value?.length ?? 0) > 0) expect(record.value?.[0]).toBe(i % 251);
    });
  });

  it('takes strings (as UTF-8) and any Uint8Array as keys and values, as kafkajs did', () => {
    const builder = new RecordSetBuilder();
    builder.append('clé-🙂', 'välue', 1, {});
    builder.append(new Uint8Array([1, 2, 3]), new Uint8Array(new ArrayBuffer(8), 2, 4).fill(9), 2, {});
    const records = decodeRecordSet(builder.finish());
    expect(records.map((r) => [r.key?.toString('utf8'), r.value?.toString('utf8')])).toEqual([['clé-🙂', 'välue'], ['\u0001\u0002\u0003', '\t\t\t\t']]);
  });

  it('refuses a record it cannot encode and stays as it was: a bad timestamp, a key or value that is not bytes', () => {
    const builder = new RecordSetBuilder();
    builder.append(Buffer.from('k0'), Buffer.from('v0'), 10, {});
    const before = builder.byteLength;
    expect(() => builder.append(null, null, 1.5, {})).toThrow('integer');
    expect(() => builder.append(null, null, Number.NaN, {})).toThrow('integer');
    expect(() => builder.append(42 as unknown as string, null, 5, {})).toThrow("output record's key is number");
    expect(() => builder.append(null, { v: 1 } as unknown as string, 5, {})).toThrow("output record's value is object");
    expect(builder.byteLength).toBe(before);
    expect(builder.count).toBe(1);
    builder.append(Buffer.from('k1'), Buffer.from('v1'), 20, {});
    const set = builder.finish();
    expect([set.firstTimestamp, set.maxTimestamp]).toEqual([10, 20]);
    expect(decodeRecordSet(set).map((r) => [String(r.key), r.timestampMs])).toEqual([['k0', 10], ['k1', 20]]);
  });

  it('refuses records after it is finished', () => {
    const builder = new RecordSetBuilder();
    builder.append(null, Buffer.from('x'), 1, {});
    builder.finish();
    expect(() => builder.append(null, Buffer.from('y'), 2, {})).toThrow('finished');
  });

  it("takes its buffers from a pool and gives them back, grown ones included, within the pool's bound", () => {
    const pool = new RecordBufferPool(64 * 1024);
    const first = new RecordSetBuilder(pool);
    for (let i = 0; i < 100; i++) first.append(Buffer.from(`k${i}`), Buffer.alloc(100, 1), i, {}); // ~11 KB: grown 4 → 8 → 16 KiB
    expect(pool.freeBytes).toBe(4096 + 8192); // the outgrown buffers, back at once
    const set = first.finish();
    first.release();
    expect(pool.freeBytes).toBe(4096 + 8192 + 16384);
    first.release(); // once only
    expect(pool.freeBytes).toBe(4096 + 8192 + 16384);
    const second = new RecordSetBuilder(pool);
    second.append(Buffer.from('again'), Buffer.from('x'), 1, {});
    expect(pool.freeBytes).toBe(8192 + 16384); // took the 4 KiB one
    const big = new RecordSetBuilder(pool);
    big.append(null, Buffer.alloc(15_000), 1, {});
    expect(big.finish().bytes.buffer).toBe(set.bytes.buffer); // the 16 KiB one, used again
    const full = new RecordBufferPool(4096);
    full.give(Buffer.alloc(4096));
    full.give(Buffer.alloc(4096));
    expect(full.freeBytes).toBe(4096);
  });
});
