/**
 * Dead letters and late-event records never exceed `maxAuditRecordBytes`
 * (key and JSON value together): one that would carries a truncated copy of
 * the original, marked with its size and SHA-256, and the pipeline goes on.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { fitDeadLetter, fitLateEventRecord, maxAuditRecordBytes, type DeadLetterRecord, type LateEventRecord } from '../../schemas/records.js';
import { MeteringHarness, cloudEvent, meteringConfig, minuteMs, t0, topics } from './metering-harness.js';
import { RatingHarness, ratingConfig } from './rating-harness.js';

let harness: MeteringHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');
/** Bytes a written record takes against the bound: its key and its value. */
const recordBytes = (record: { key: Buffer | null; value: Buffer | null }): number => (record.key?.length ?? 0) + (record.value?.length ?? 0);

/** A JSON event of exactly `bytes` bytes, `data.pad` filling it up. */
function eventOfSize(fields: Record<string, unknown>, bytes: number): Buffer {
  const bare = Buffer.byteLength(JSON.stringify({ ...fields, data: { ...(fields['data'] as object), pad: '' } }));
  return Buffer.from(JSON.stringify({ ...fields, data: { ...(fields['data'] as object), pad: 'x'.repeat(bytes - bare) } }));
}

describe('dead letters within maxAuditRecordBytes', () => {
  it('carries a refused 1 MB event as its first bytes, with the size, the SHA-256 and the coordinates, filling the bound to the last base64 quantum', async () => {
    harness = await MeteringHarness.start(meteringConfig());
    const refused = eventOfSize(cloudEvent({ id: 'big', time: 'yesterday', data: { route: '/a' } }), 1_000_000);
    const key = Buffer.from('input-key');
    await harness.driver.pipeRaw(topics.events, key, refused);
    await harness.pipe(cloudEvent({ timeMs: t0, data: { route: '/ok' } }));

    const [written, ...others] = harness.driver.readAll(topics.deadLetter);
    expect(others).toEqual([]);
    if (written === undefined) throw new Error('no dead letter');
    expect(written.key).toEqual(key);
    const dead = JSON.parse((written.value as Buffer).toString('utf8')) as DeadLetterRecord;
    expect(dead).toMatchObject({ reason: 'invalid-time', topic: topics.events, partition: 0, offset: '0', eventId: 'big', key: key.toString('base64') });
    expect(dead.valueTruncated).toBe(true);
    expect(dead.valueBytes).toBe(1_000_000);
    expect(dead.valueSha256).toBe(sha256(refused));
    expect(dead.keyTruncated).toBeUndefined();
    const prefix = Buffer.from(dead.value as string, 'base64');
    expect(prefix.equals(refused.subarray(0, prefix.length))).toBe(true);
    // As full as the bound allows: 3 more bytes (4 base64 characters) would not fit.
    expect(recordBytes(written)).toBeLessThanOrEqual(maxAuditRecordBytes);
    expect(recordBytes(written) + 4).toBeGreaterThan(maxAuditRecordBytes);
    expect(harness.meters()).toEqual([expect.objectContaining({ meter: 'api_requests', count: 1 })]);
  });

  it('keeps a refused event whole when its dead letter fits, with no marks', async () => {
    harness = await MeteringHarness.start(meteringConfig());
    const refused = eventOfSize(cloudEvent({ id: 'mid', time: 'yesterday', data: {} }), 700_000);
    await harness.pipe(refused);
    const [dead] = harness.deadLetters();
    expect(dead?.value).toBe(refused.toString('base64'));
    expect(Object.keys(dead ?? {}).filter((k) => k.endsWith('Truncated') || k.endsWith('Bytes') || k.endsWith('Sha256'))).toEqual([]);
  });

  it('cuts exactly at the bound: a record of limit bytes is whole, one byte over is cut', () => {
    const value = Buffer.alloc(3000, 'v');
    const key = Buffer.from('k');
    const record: DeadLetterRecord = { reason: 'too-large', message: 'm', topic: 't', partition: 0, offset: '5', timestamp: '2024-01-01T00:00:00.000Z', key: key.toString('base64'), value: value.toString('base64') };
    const size = key.length + Buffer.byteLength(JSON.stringify(record));
    expect(fitDeadLetter(record, { key, value }, key.length, size)).toBe(record);
    const cut = fitDeadLetter(record, { key, value }, key.length, size - 1);
    expect(cut).toMatchObject({ valueTruncated: true, valueBytes: 3000, valueSha256: sha256(value), key: key.toString('base64') });
    const cutSize = key.length + Buffer.byteLength(JSON.stringify(cut));
    expect(cutSize).toBeLessThanOrEqual(size - 1);
    expect(cutSize + 4).toBeGreaterThan(size - 1);
  });

  it('cuts the key too when the value alone cannot make room, and never drops the record', () => {
    const key = Buffer.alloc(600, 'k');
    const value = Buffer.alloc(600, 'v');
    const record: DeadLetterRecord = { reason: 'invalid-encoding', message: 'm', topic: 't', partition: 1, offset: '9', timestamp: '2024-01-01T00:00:00.000Z', key: key.toString('base64'), value: value.toString('base64') };
    const cut = fitDeadLetter(record, { key, value }, key.length, 1500);
    expect(cut).toMatchObject({ value: '', valueTruncated: true, valueBytes: 600, keyTruncated: true, keyBytes: 600, keySha256: sha256(key), topic: 't', partition: 1, offset: '9' });
    expect(Buffer.from(cut.key as string, 'base64').equals(key.subarray(0, Buffer.from(cut.key as string, 'base64').length))).toBe(true);
    expect(key.length + Buffer.byteLength(JSON.stringify(cut))).toBeLessThanOrEqual(1500);
    // Nothing left to cut: still returned, marked.
    expect(fitDeadLetter(record, { key, value }, key.length, 10)).toMatchObject({ key: '', value: '', keyTruncated: true, valueTruncated: true });
  });

  it('cuts a refused customer record the same way', async () => {
    const rating = await RatingHarness.start(ratingConfig());
    try {
      const bad = Buffer.concat([Buffer.from('{"customer":"'), Buffer.alloc(900_000, 'c')]); // not JSON: refused
      await rating.metering.driver.pipeRaw(topics.customers, Buffer.from('subject-1'), bad);
      const [written] = rating.metering.driver.readAll(topics.deadLetter);
      if (written === undefined) throw new Error('no dead letter');
      const dead = JSON.parse((written.value as Buffer).toString('utf8')) as DeadLetterRecord;
      expect(dead).toMatchObject({ reason: 'invalid-encoding', topic: topics.customers, valueTruncated: true, valueBytes: bad.length, valueSha256: sha256(bad) });
      expect(recordBytes(written)).toBeLessThanOrEqual(maxAuditRecordBytes);
      expect(recordBytes(written) + 4).toBeGreaterThan(maxAuditRecordBytes);
    } finally {
      await rating.close();
    }
  });
});

describe('late-event records within maxAuditRecordBytes', () => {
  it('leaves out the data of a 1 MB late event, marked with the whole event size and SHA-256, keyed like the window', async () => {
    harness = await MeteringHarness.start(meteringConfig());
    await harness.pipe(cloudEvent({ timeMs: t0 + 5 * minuteMs, data: { route: '/now' } }));
    const big = JSON.parse(eventOfSize(cloudEvent({ id: 'late-big', timeMs: t0, data: { route: '/old' } }), 1_000_000).toString('utf8')) as Record<string, unknown>;
    await harness.pipe(big);
    await harness.pipe(cloudEvent({ id: 'late-small', timeMs: t0 + 1, data: { route: '/old' } }));

    const written = harness.driver.readAll(topics.late);
    expect(written.map((r) => r.key?.toString())).toEqual([`api_requests|customer-1|{"route":"/old"}|2024-01-01T00:00:00.000Z`, `api_requests|customer-1|{"route":"/old"}|2024-01-01T00:00:00.000Z`]);
    const [cut, whole] = written.map((r) => JSON.parse((r.value as Buffer).toString('utf8')) as LateEventRecord);
    expect(cut).toMatchObject({ reason: 'window-closed', meter: 'api_requests', eventTruncated: true, event: { id: 'late-big', source: 'test', subject: 'customer-1', time: '2024-01-01T00:00:00.000Z', timeMs: t0, data: {} } });
    const wholeEventJson = JSON.stringify({ ...cut?.event, data: big['data'] });
    expect(cut?.eventBytes).toBe(Buffer.byteLength(wholeEventJson));
    expect(cut?.eventBytes).toBeGreaterThan(1_000_000);
    expect(cut?.eventSha256).toBe(sha256(wholeEventJson));
    expect(recordBytes(written[0] as { key: Buffer | null; value: Buffer | null })).toBeLessThanOrEqual(maxAuditRecordBytes);
    expect(whole?.event.data).toEqual({ route: '/old' });
    expect(whole?.eventTruncated).toBeUndefined();
  });

  it('cuts exactly at the bound', () => {
    const record: LateEventRecord = {
      reason: 'window-closed', message: 'm', meter: 'm1', subject: 's', windowStart: 'a', windowEnd: 'b', closedAt: 'c',
      event: { specversion: '1.0', id: 'e', source: 's', type: 't', subject: 's', time: 'x', timeMs: 0, data: { pad: 'y'.repeat(100) } },
    };
    const size = 10 + Buffer.byteLength(JSON.stringify(record));
    expect(fitLateEventRecord(record, 10, size)).toBe(record);
    expect(fitLateEventRecord(record, 10, size - 1)).toMatchObject({ eventTruncated: true, eventBytes: Buffer.byteLength(JSON.stringify(record.event)), event: { id: 'e', data: {} } });
  });
});
