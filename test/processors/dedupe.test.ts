import { afterEach, describe, expect, it } from 'vitest';
import { dedupeKey, dedupeStoreName } from '../../processors/index.js';
import { MeteringHarness, cloudEvent, iso, meteringConfig, minuteMs, t0 } from './metering-harness.js';

let harness: MeteringHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const countOf = (h: MeteringHarness): string | undefined => h.meters().at(-1)?.value;

describe('dedupe', () => {
  it('counts the first copy of (source, id) and drops later copies', async () => {
    harness = await MeteringHarness.start();
    const event = cloudEvent({ id: 'dup', timeMs: t0 + 1_000 });
    await harness.pipeAll([event, event, { ...event, data: { route: '/other' } }]);
    expect(harness.meters()).toHaveLength(1);
    expect(harness.counters.duplicates).toBe(2);
  });

  it('counts the same id from another source as a different event', async () => {
    harness = await MeteringHarness.start();
    await harness.pipe(cloudEvent({ id: 'same', source: 'a', timeMs: t0 }));
    await harness.pipe(cloudEvent({ id: 'same', source: 'b', timeMs: t0 }));
    expect(countOf(harness)).toBe('2');
    expect(harness.counters.duplicates).toBe(0);
  });

  it('does not confuse identities that only a naive separator would join', async () => {
    harness = await MeteringHarness.start();
    await harness.pipe(cloudEvent({ source: 'a|b', id: 'c', timeMs: t0 }));
    await harness.pipe(cloudEvent({ source: 'a', id: 'b|c', timeMs: t0 }));
    expect(countOf(harness)).toBe('2');
  });

  it('counts a valid resend of an event that was first refused, once', async () => {
    harness = await MeteringHarness.start(meteringConfig());
    const good = cloudEvent({ id: 'retry', type: 'llm.tokens', timeMs: t0, data: { tokens: 5 } });
    await harness.pipe({ ...good, data: { tokens: 'five' } });
    await harness.pipe(good);
    await harness.pipe(good);
    expect(harness.deadLetters().map((d) => d.reason)).toEqual(['invalid-value']);
    expect(harness.meters().map((m) => m.value)).toEqual(['5']);
    expect(harness.counters.duplicates).toBe(1);
  });

  it('treats a duplicate that arrives after its window closed as a duplicate, not as late', async () => {
    harness = await MeteringHarness.start();
    const first = cloudEvent({ id: 'early', timeMs: t0 + 1_000 });
    await harness.pipe(first);
    await harness.pipe(cloudEvent({ timeMs: t0 + 5 * minuteMs }));
    await harness.pipe(first);
    expect(harness.late()).toEqual([]);
    expect(harness.counters.duplicates).toBe(1);
    expect(harness.meters().filter((m) => m.windowStart === iso(t0) && m.final)).toHaveLength(1);
  });

  it('recognises a copy stamped with another time (a resend without time gets a new ingestion time)', async () => {
    harness = await MeteringHarness.start(meteringConfig({ dedupeRetentionMs: 10 * minuteMs, retentionMs: 10 * minuteMs }), { wallClockMs0: t0 });
    const event = cloudEvent({ id: 'no-time', timeMs: undefined });
    await harness.pipe(event);
    await harness.driver.advanceWallClockTime(6 * minuteMs); // a later bucket of the dedupe store
    await harness.pipe(event);
    expect(harness.counters.duplicates).toBe(1);
    expect(harness.counters.lateEvents).toBe(0);
  });

  it('remembers identities in the dedupe store and never stores refused events', async () => {
    harness = await MeteringHarness.start();
    await harness.pipe(cloudEvent({ id: 'kept', source: 's', timeMs: t0 }));
    await harness.pipe({ ...cloudEvent({ id: 'bad', source: 's', timeMs: t0 }), specversion: '0.3' });
    const keys: string[] = [];
    for await (const entry of harness.driver.getWindowStore<number>(dedupeStoreName).all()) keys.push(entry.key);
    expect(keys).toEqual([dedupeKey('s', 'kept')]);
  });

  it('forgets identities after dedupeRetention of event time, when their windows are long closed', async () => {
    harness = await MeteringHarness.start(meteringConfig({ dedupeRetentionMs: 4 * minuteMs, retentionMs: 4 * minuteMs }));
    const old = cloudEvent({ id: 'old', timeMs: t0 });
    await harness.pipe(old);
    await harness.pipe(cloudEvent({ timeMs: t0 + 30 * minuteMs }));
    await harness.pipe(old);
    expect(harness.counters.duplicates).toBe(0);
    expect(harness.late()).toHaveLength(1);
  });
});
