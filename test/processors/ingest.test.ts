import { afterEach, describe, expect, it } from 'vitest';
import type { MeterConfig } from '../../schemas/config-types.js';
import { MeteringHarness, cloudEvent, iso, meteringConfig, minuteMs, t0 } from './metering-harness.js';

let harness: MeteringHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('ingest: dead letters', () => {
  it('carries the reason, a message, the source coordinates and the original bytes', async () => {
    harness = await MeteringHarness.start();
    await harness.pipe(cloudEvent({ timeMs: t0 }));
    await harness.driver.pipeRaw('usage-events', Buffer.from('key-1'), Buffer.from('{"nope":'), { timestampMs: t0 + 5 });
    const [dead, ...rest] = harness.deadLetters();
    expect(rest).toEqual([]);
    expect(dead).toEqual({
      reason: 'invalid-encoding',
      message: expect.stringContaining('not JSON'),
      topic: 'usage-events',
      partition: 0,
      offset: '1',
      timestamp: iso(t0 + 5),
      key: Buffer.from('key-1').toString('base64'),
      value: Buffer.from('{"nope":').toString('base64'),
    });
    const record = harness.driver.readAll('tally-dead-letter')[0];
    expect(record?.key?.toString()).toBe('key-1');
  });

  it('dead-letters an event with a bad value for one of its meters once, and counts it for none', async () => {
    const meters: MeterConfig[] = [
      { slug: 'calls', eventType: 'llm.tokens', aggregation: 'COUNT', groupBy: {} },
      { slug: 'input_tokens', eventType: 'llm.tokens', aggregation: 'SUM', valueProperty: '$.input', groupBy: {} },
      { slug: 'output_tokens', eventType: 'llm.tokens', aggregation: 'SUM', valueProperty: '$.output', groupBy: {} },
    ];
    harness = await MeteringHarness.start(meteringConfig({ meters }));
    await harness.pipe(cloudEvent({ type: 'llm.tokens', timeMs: t0, data: { input: 10, output: 'lots' } }));
    await harness.pipe(cloudEvent({ type: 'llm.tokens', timeMs: t0 + 1, data: { input: 1, output: 2 } }));
    const dead = harness.deadLetters();
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ reason: 'invalid-value', meter: 'output_tokens', message: expect.stringContaining('$.output is the string "lots"') });
    const latest = Object.fromEntries(harness.meters().map((m) => [m.meter, m]));
    expect(latest).toMatchObject({ calls: { value: '1', count: 1 }, input_tokens: { value: '1' }, output_tokens: { value: '2' } });
  });

  it('counts events that match no meter without dead-lettering or forwarding them', async () => {
    harness = await MeteringHarness.start();
    await harness.pipe(cloudEvent({ type: 'nobody.cares', timeMs: t0 }));
    expect(harness.deadLetters()).toEqual([]);
    expect(harness.meters()).toEqual([]);
    expect(harness.counters.eventsUnmatched).toBe(1);
    expect(harness.driver.readAll('tally-events-by-subject-repartition')).toEqual([]);
  });

  it('stamps an event without time with the wall clock and keeps that as its time', async () => {
    harness = await MeteringHarness.start(undefined, { wallClockMs0: t0 + 90_000 });
    await harness.pipe(cloudEvent({ data: { route: '/x' } }));
    expect(harness.meters()).toEqual([expect.objectContaining({ windowStart: iso(t0 + minuteMs), value: '1' })]);
  });
});

describe('ingest: the future bound', () => {
  it('dead-letters an event stamped 2099 before it can move stream time: later valid events still count', async () => {
    harness = await MeteringHarness.start();
    await harness.pipe(cloudEvent({ timeMs: t0 + 1_000, data: { route: '/a' } }));
    await harness.pipe(cloudEvent({ timeMs: Date.parse('2099-01-01T00:00:00Z'), data: { route: '/a' } }));
    await harness.pipe(cloudEvent({ timeMs: t0 + 2_000, data: { route: '/a' } }));
    expect(harness.deadLetters().map((d) => d.reason)).toEqual(['future-time']);
    expect(harness.late()).toEqual([]);
    const meters = harness.meters();
    expect(meters.every((m) => !m.final)).toBe(true);
    expect(meters.at(-1)).toMatchObject({ windowStart: iso(t0), value: '2', count: 2 });
    expect(harness.driver.streamTimeMs(1)).toBe(t0 + 2_000);
  });

  it('never lets a refused event move stream time', async () => {
    harness = await MeteringHarness.start();
    await harness.pipe(cloudEvent({ type: 'llm.tokens', timeMs: t0, data: { tokens: 1 } }));
    await harness.pipe(cloudEvent({ type: 'llm.tokens', timeMs: t0 + 10 * minuteMs, data: { tokens: 'x' } }));
    await harness.pipe({ ...cloudEvent({ timeMs: t0 + 10 * minuteMs }), specversion: '2.0' });
    await harness.pipe(cloudEvent({ type: 'llm.tokens', timeMs: t0 + 30_000, data: { tokens: 2 } }));
    expect(harness.late()).toEqual([]);
    expect(harness.meters().at(-1)).toMatchObject({ value: '3', final: false });
    expect(harness.driver.streamTimeMs(1)).toBe(t0 + 30_000);
  });

  it('measures the skew against the wall clock as it moves', async () => {
    harness = await MeteringHarness.start(undefined, { wallClockMs0: t0 });
    const ahead = t0 + 10 * minuteMs;
    await harness.pipe(cloudEvent({ timeMs: ahead }));
    await harness.driver.advanceWallClockTime(5 * minuteMs);
    await harness.pipe(cloudEvent({ timeMs: ahead }));
    expect(harness.deadLetters().map((d) => d.reason)).toEqual(['future-time']);
    expect(harness.counters.eventsAccepted).toBe(1);
  });
});
