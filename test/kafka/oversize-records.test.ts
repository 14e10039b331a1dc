/**
 * One record must not stop the pipeline. A refused event close to the input
 * limit becomes a dead letter a third larger (its bytes in base64), and a
 * late event close to it becomes a late-event record a little larger (the
 * event plus the envelope). On topics with Kafka's default max.message.bytes
 * (1048588) the broker refused such records at the commit, and the task
 * failed on every restart. Here they must arrive, cut down and marked, and the
 * events after them must be counted.
 *
 * The input is keyed by subject (no repartition topic), so the only records
 * near the limit are the ones this test is about.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { maxAuditRecordBytes } from '../../schemas/records.js';
import { produce } from './kafka-helpers.js';
import { createMeteringTopics, eventually, publishedMeters, runCleanups, startApp, tailOutputs, uniqueTopics } from './metering-fixtures.js';

afterEach(runCleanups);

/** Kafka's default max.message.bytes: the topics of this test keep it. */
const kafkaDefaultMaxMessageBytes = 1_048_588;
const minuteMs = 60_000;
const subject = 'customer-big';

/** A JSON event of exactly `bytes` bytes: `pad` fills it up. */
function paddedEvent(fields: Record<string, unknown>, bytes: number): Buffer {
  const bare = Buffer.byteLength(JSON.stringify({ ...fields, data: { route: '/big', pad: '' } }));
  return Buffer.from(JSON.stringify({ ...fields, data: { route: '/big', pad: 'x'.repeat(bytes - bare) } }));
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('records near the input limit on topics with the default max.message.bytes', () => {
  it('dead-letters a refused 1 MB event and routes a late 1 MiB event, cut down and marked, and keeps counting', { timeout: 120_000 }, async () => {
    const topics = uniqueTopics('oversize');
    await createMeteringTopics(topics, 1);
    const outputs = await tailOutputs(topics);
    const running = await startApp(topics, { keyedBySubject: true });
    const nowMs = Date.now();
    const windowOf = (ms: number) => new Date(Math.floor(ms / minuteMs) * minuteMs).toISOString();
    const onTime = (id: string, atMs: number) => ({ key: subject, value: JSON.stringify({ specversion: '1.0', id, source: 'oversize', type: 'api.request', subject, time: new Date(atMs).toISOString(), data: { route: '/ok' } }) });

    // Stream time first, so that an event three hours old is late. The event after the big ones
    // lands in the same one-minute window (a second later, from ten seconds into the minute).
    const firstMs = Math.floor((nowMs - 10 * minuteMs) / minuteMs) * minuteMs + 10_000;
    await produce(topics.events, [onTime('first', firstMs)]);
    const firstKey = `api_requests|${subject}|{"route":"/ok"}|${windowOf(firstMs)}`;
    await eventually('the first event to be counted', () => publishedMeters(outputs.meters).get(firstKey)?.count === 1, () => running.logs.slice(-10).join('\n'), 30_000);

    // The input topic takes them (value plus ~100 bytes of batch framing); the full outputs would not fit.
    const lateBytes = kafkaDefaultMaxMessageBytes - 200;
    const late = paddedEvent({ specversion: '1.0', id: 'late-big', source: 'oversize', type: 'api.request', subject, time: new Date(nowMs - 180 * minuteMs).toISOString() }, lateBytes);
    const refusedBytes = 1_000_000;
    const refused = paddedEvent({ specversion: '1.0', id: 'refused-big', source: 'oversize', type: 'api.request', subject, time: 'yesterday' }, refusedBytes);
    expect([late.length, refused.length]).toEqual([lateBytes, refusedBytes]);
    const afterMs = firstMs + 1000;
    // One send each: a produce request's records for a partition travel as one batch, and the input topic has the default limit too.
    for (const message of [{ key: subject, value: late }, { key: subject, value: refused }, onTime('after', afterMs)]) await produce(topics.events, [message]);

    // The event after the two big ones is counted: nothing stopped the task.
    await eventually('the event after the big ones to be counted', () => publishedMeters(outputs.meters).get(firstKey)?.count === 2, () => running.logs.slice(-10).join('\n'), 45_000);
    await eventually('the dead letter and the late record', () => outputs.deadLetters.records.length >= 1 && outputs.late.records.length >= 1, () => running.logs.slice(-10).join('\n'), 15_000);

    expect(outputs.deadLetters.records).toHaveLength(1);
    const deadLetter = outputs.deadLetters.records[0] as { key: string | null; value: string };
    const dead = JSON.parse(deadLetter.value) as Record<string, unknown>;
    expect(dead).toMatchObject({ reason: 'invalid-time', topic: topics.events, partition: 0, offset: '2', eventId: 'refused-big', valueTruncated: true, valueBytes: refusedBytes, valueSha256: sha256(refused) });
    const prefix = Buffer.from(dead['value'] as string, 'base64');
    expect(prefix.length).toBeGreaterThan(700_000);
    expect(prefix.equals(refused.subarray(0, prefix.length))).toBe(true);
    expect(Buffer.byteLength(deadLetter.key ?? '') + Buffer.byteLength(deadLetter.value)).toBeLessThanOrEqual(maxAuditRecordBytes);

    expect(outputs.late.records).toHaveLength(1);
    const lateRecord = outputs.late.records[0] as { key: string | null; value: string };
    const lateValue = JSON.parse(lateRecord.value) as { reason: string; eventTruncated?: boolean; eventBytes?: number; event: Record<string, unknown> };
    expect(lateValue).toMatchObject({ reason: 'window-closed', meter: 'api_requests', eventTruncated: true, event: { id: 'late-big', source: 'oversize', subject, data: {} } });
    expect(lateValue.eventBytes).toBeGreaterThan(lateBytes);
    expect(Buffer.byteLength(lateRecord.key ?? '') + Buffer.byteLength(lateRecord.value)).toBeLessThanOrEqual(maxAuditRecordBytes);
  });
});
