/**
 * The metering topology on the real broker, exactly-once, with JSON input:
 * `tally-meters` (read by a plain kafkajs consumer) must equal the ground
 * truth computed from the input by the test itself; malformed records must
 * each be dead-lettered once with their reason; late events must each reach
 * the late topic once per meter; duplicates must count once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from 'kafkajs';
import { produce } from './kafka-helpers.js';
import { createMeteringTopics, deadLetterKey, expectExactly, expectMeters, malformedRecords, publishedMeters, runCleanups, startApp, tailOutputs, uniqueTopics } from './metering-fixtures.js';
import { generateEvents, lateTruth, meterTruth, sameMap, type CloudEvent } from './metering-truth.js';

afterEach(runCleanups);

const jsonMessage = (event: object, i: number): Message => ({ key: i % 7 === 0 ? null : `k-${i}`, value: JSON.stringify(event) });

const minuteMs = 60_000;

describe('the metering pipeline on Kafka (JSON input, exactly-once)', () => {
  it('publishes meters equal to the truth, dead-letters malformed records, routes late events and counts duplicates once', { timeout: 150_000 }, async () => {
    const topics = uniqueTopics('json');
    await createMeteringTopics(topics, 3);
    const outputs = await tailOutputs(topics);
    const running = await startApp(topics);

    // Phase 1: on-time events (20 to 10 minutes ago), duplicates, malformed records and unmatched types.
    const nowMs = Date.now();
    const fromMs = Math.floor((nowMs - 20 * minuteMs) / minuteMs) * minuteMs;
    const events = generateEvents({ count: 2000, subjects: 20, fromMs, toMs: fromMs + 10 * minuteMs, seed: 42, idPrefix: 'j' });
    const duplicates = events.filter((_, i) => i % 20 === 3);
    const bad = malformedRecords(nowMs, 'customer-1');
    const unmatched: CloudEvent = { ...(events[0] as CloudEvent), id: 'other-1', type: 'not.metered' };
    const messages: Message[] = [...events, ...duplicates, unmatched].map(jsonMessage);
    bad.forEach((b, i) => messages.splice(97 * (i + 1), 0, { key: `bad-${i}`, value: b.value }));
    await produce(topics.events, messages);
    await expectMeters(outputs, meterTruth(events), running);

    // Phase 2, once phase 1 is in: events three hours old are late for every meter that reads them;
    // a few more on-time events count, and copies of 20 of those do not.
    const late = generateEvents({ count: 30, subjects: 20, fromMs: nowMs - 3 * 60 * minuteMs, toMs: nowMs - 3 * 60 * minuteMs + 5 * minuteMs, seed: 7, idPrefix: 'late' });
    const more = generateEvents({ count: 200, subjects: 20, fromMs, toMs: fromMs + 10 * minuteMs, seed: 43, idPrefix: 'more' });
    await produce(topics.events, [...late, ...more, ...more.slice(0, 20)].map(jsonMessage));

    await expectMeters(outputs, meterTruth([...events, ...more]), running);
    await expectExactly(outputs.late, 'the late events', lateTruth(late), (v) => `${v['meter'] as string}|${(v['event'] as { id: string }).id}`);
    await expectExactly(outputs.deadLetters, 'the dead letters', bad.map((b) => deadLetterKey(b.reason, b.value)), (v) =>
      deadLetterKey(v['reason'] as string, v['value'] === null ? null : Buffer.from(v['value'] as string, 'base64')),
    );
    expect(running.counters.duplicates).toBe(duplicates.length + 20);
    expect(running.counters.eventsUnmatched).toBe(1);
    expect(sameMap(meterTruth([...events, ...more]), publishedMeters(outputs.meters))).toBe(true);
  });
});
