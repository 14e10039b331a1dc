import { describe, expect, it } from 'vitest';
import { partitionForKey } from '../../topology/internal/partitioner.js';
import type { OutputRecord, RawRecord } from '../../topology/internal/stream-task.js';
import { RepartitionBatcher, decodeRepartitionBatch, isRepartitionBatch, maxRepartitionBatchBytes, repartitionBatchHeader } from '../../topology/kafka/repartition-batch.js';

const output = (topic: string, key: string | null, value: string | null, timestampMs: number, headers: Record<string, string> = {}): OutputRecord => ({
  topic,
  key: key === null ? null : Buffer.from(key),
  value: value === null ? null : Buffer.from(value),
  timestampMs,
  headers,
  partition: undefined,
});

/** What a consumer of the batch's partition would get back. */
const consumed = (record: OutputRecord, offset: number): RawRecord => ({ key: record.key, value: record.value, timestampMs: record.timestampMs, headers: record.headers, partition: record.partition as number, offset });
const brief = (records: readonly RawRecord[]) => records.map((r) => `${String(r.key)}=${String(r.value)}@${r.timestampMs}${Object.keys(r.headers).length > 0 ? JSON.stringify(r.headers) : ''}`);

describe('repartition records in batches', () => {
  it('sends one batch per partition at the commit, and the reader gets every record back in order with its own key, timestamp and headers', () => {
    const emitted: OutputRecord[] = [];
    const batcher = new RepartitionBatcher(new Map([['app-by-subject-repartition', 4]]), (r) => emitted.push(r));
    const sent = Array.from({ length: 40 }, (_, i) => output('app-by-subject-repartition', `subject-${i % 7}`, `event-${i}`, 1_000 + i, i === 3 ? { trace: 'é' } : {}));
    for (const record of sent) batcher.add(record);
    expect(emitted).toHaveLength(0);
    batcher.flush();
    expect(emitted.length).toBeLessThanOrEqual(4);
    for (const batch of emitted) {
      expect(batch.headers[repartitionBatchHeader]).toBe('1');
      const records = decodeRepartitionBatch(consumed(batch, 17));
      for (const record of records) {
        // Each record lands where Kafka's partitioner would have put it, and keeps the batch's coordinates.
        expect(partitionForKey(record.key as Buffer, 4)).toBe(batch.partition);
        expect(record.offset).toBe(17);
      }
    }
    const received = emitted.flatMap((batch) => decodeRepartitionBatch(consumed(batch, 0)));
    for (const key of new Set(sent.map((r) => String(r.key)))) {
      expect(brief(received).filter((line) => line.startsWith(`${key}=`))).toEqual(brief(sent.map((r, i) => consumed(r, i))).filter((line) => line.startsWith(`${key}=`)));
    }
    expect(received).toHaveLength(40);
  });

  it('sends a partition batch as soon as it is full, keeps null keys and values, and a dirty close drops what is gathered', () => {
    const emitted: OutputRecord[] = [];
    const batcher = new RepartitionBatcher(new Map([['r', 1]]), (r) => emitted.push(r));
    const big = 'x'.repeat(10_000);
    const perBatch = Math.ceil(maxRepartitionBatchBytes / 10_000);
    for (let i = 0; i < perBatch; i++) batcher.add(output('r', 'k', big, i));
    expect(emitted).toHaveLength(1);
    batcher.add(output('r', null, null, 99));
    batcher.flush();
    expect(brief(decodeRepartitionBatch(consumed(emitted[1] as OutputRecord, 0)))).toEqual(['null=null@99']);
    batcher.add(output('r', 'k', 'lost', 100));
    batcher.discard();
    batcher.flush();
    expect(emitted).toHaveLength(2);
  });

  it('takes only repartition topics, and passes records that are not batches through unchanged', () => {
    const batcher = new RepartitionBatcher(new Map([['r', 2]]), () => undefined);
    expect(batcher.takes('r')).toBe(true);
    expect(batcher.takes('tally-meters')).toBe(false);
    const plain: RawRecord = { key: Buffer.from('k'), value: Buffer.from('v'), timestampMs: 5, headers: {}, partition: 0, offset: 3 };
    expect(isRepartitionBatch(plain)).toBe(false);
    expect(isRepartitionBatch({ ...plain, headers: { [repartitionBatchHeader]: '1' } })).toBe(true);
    expect(() => decodeRepartitionBatch({ ...plain, headers: { [repartitionBatchHeader]: '1' }, value: Buffer.from([7, 0, 0, 0, 0]) })).toThrow(/version 7/);
  });
});
