import { afterEach, describe, expect, it } from 'vitest';
import type { MeterConfig } from '../../schemas/config-types.js';
import type { MeterRecord } from '../../schemas/records.js';
import { finalsPerWallClockStep, meterStoreKey, meterStoreName, type MeterWindowValue } from '../../processors/index.js';
import { MeteringHarness, cloudEvent, iso, meteringConfig, minuteMs, t0 } from './metering-harness.js';

let harness: MeteringHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const request = (timeMs: number, extra: Record<string, unknown> = {}) => cloudEvent({ timeMs, data: { route: '/a' }, ...extra });

describe('meter aggregate: lateness', () => {
  it('closes a window exactly when stream time reaches its end (no lateness)', async () => {
    harness = await MeteringHarness.start(meteringConfig({ allowedLatenessMs: 0 }));
    await harness.pipe(request(t0 + 59_999)); // stream time end - 1: the window is open
    await harness.pipe(request(t0 + 10_000));
    expect(harness.late()).toEqual([]);
    await harness.pipe(request(t0 + minuteMs)); // stream time = end: closed
    await harness.pipe(request(t0 + 59_999));
    const late = harness.late();
    expect(late).toHaveLength(1);
    expect(late[0]).toMatchObject({
      reason: 'window-closed',
      meter: 'api_requests',
      subject: 'customer-1',
      windowStart: iso(t0),
      windowEnd: iso(t0 + minuteMs),
      closedAt: iso(t0 + minuteMs),
      event: { timeMs: t0 + 59_999 },
    });
    const finals = harness.meters().filter((m) => m.final);
    expect(finals).toEqual([expect.objectContaining({ windowStart: iso(t0), value: '2', count: 2 })]);
  });

  it('accepts events until stream time reaches end + allowedLateness, strictly', async () => {
    harness = await MeteringHarness.start(meteringConfig({ allowedLatenessMs: 10_000 }));
    await harness.pipe(request(t0 + minuteMs + 9_999));
    await harness.pipe(request(t0 + 1_000));
    expect(harness.late()).toEqual([]);
    expect(harness.meters().some((m) => m.final)).toBe(false);
    await harness.pipe(request(t0 + minuteMs + 10_000));
    await harness.pipe(request(t0 + 2_000));
    expect(harness.late()).toHaveLength(1);
    expect(harness.meters().filter((m) => m.final)).toEqual([expect.objectContaining({ windowStart: iso(t0), value: '1' })]);
  });

  it('writes one late record per meter the event would have counted for, keyed like the window', async () => {
    const meters: MeterConfig[] = [
      { slug: 'calls', eventType: 'api.request', aggregation: 'COUNT', groupBy: { route: '$.route' } },
      { slug: 'bytes', eventType: 'api.request', aggregation: 'SUM', valueProperty: '$.bytes', groupBy: {} },
    ];
    harness = await MeteringHarness.start(meteringConfig({ meters }));
    await harness.pipe(cloudEvent({ timeMs: t0 + 5 * minuteMs, data: { route: '/r', bytes: 1 } }));
    await harness.pipe(cloudEvent({ timeMs: t0, data: { route: '/r', bytes: 7 } }));
    const keys = harness.driver.readAll('tally-late-events').map((r) => r.key?.toString());
    expect(keys).toEqual([`calls|customer-1|{"route":"/r"}|${iso(t0)}`, `bytes|customer-1|{}|${iso(t0)}`]);
    expect(harness.counters.lateEvents).toBe(2);
  });
});

describe('meter aggregate: group by', () => {
  it('uses the empty string for a missing path and canonical text for other values', async () => {
    const meters: MeterConfig[] = [{ slug: 'calls', eventType: 'api.request', aggregation: 'COUNT', groupBy: { route: '$.route', code: '$.code', ok: '$.ok', tags: '$.tags' } }];
    harness = await MeteringHarness.start(meteringConfig({ meters }));
    await harness.pipe(cloudEvent({ timeMs: t0, data: { code: 200.0, ok: true, tags: ['a'] } }));
    await harness.pipe(cloudEvent({ timeMs: t0, data: { code: '200', ok: 'true', tags: '["a"]', route: null } }));
    const [first, second] = harness.meters();
    expect(first?.groupBy).toEqual({ route: '', code: '200', ok: 'true', tags: '["a"]' });
    expect(second).toMatchObject({ groupBy: first?.groupBy, value: '2' });
    expect(harness.driver.readAll('tally-meters')[0]?.key?.toString()).toBe(`calls|customer-1|{"code":"200","ok":"true","route":"","tags":"[\\"a\\"]"}|${iso(t0)}`);
  });

  it('keeps subjects and groups apart in the store, with the query engine key', async () => {
    harness = await MeteringHarness.start();
    await harness.pipe(cloudEvent({ subject: 's1', timeMs: t0, data: { route: '/a' } }));
    await harness.pipe(cloudEvent({ subject: 's1', timeMs: t0, data: { route: '/b' } }));
    await harness.pipe(cloudEvent({ subject: 's2', timeMs: t0, data: { route: '/a' } }));
    await harness.pipe(cloudEvent({ subject: 's1', timeMs: t0 + 1, data: { route: '/a' } }));
    const store = harness.driver.getWindowStore<MeterWindowValue>(meterStoreName('api_requests'));
    expect(await store.fetch(meterStoreKey('s1', { route: '/a' }), t0)).toEqual({ acc: 2, count: 2 });
    expect(await store.fetch(meterStoreKey('s1', { route: '/b' }), t0)).toEqual({ acc: 1, count: 1 });
    expect(await store.fetch(meterStoreKey('s2', { route: '/a' }), t0)).toEqual({ acc: 1, count: 1 });
  });
});

describe('meter aggregate: emission', () => {
  it('coalesces updates per commit: one record per changed window, with the full aggregate', async () => {
    harness = await MeteringHarness.start(meteringConfig({ allowedLatenessMs: 30_000 }), { commitEveryRecords: 0 });
    await harness.pipeAll([request(t0), request(t0 + 1), request(t0 + 2), request(t0 + minuteMs + 1)]);
    expect(harness.meters()).toEqual([]);
    await harness.driver.commit();
    expect(harness.meters().map((m) => [m.windowStart, m.value, m.count, m.final])).toEqual([
      [iso(t0), '3', 3, false],
      [iso(t0 + minuteMs), '1', 1, false],
    ]);
    await harness.driver.commit();
    expect(harness.meters()).toEqual([]);
  });

  it('emits exactly one final per window, carrying the full aggregate, and nothing for it afterwards', async () => {
    harness = await MeteringHarness.start(meteringConfig({ allowedLatenessMs: 30_000 }));
    for (let i = 0; i < 6; i++) await harness.pipe(request(t0 + i * 40_000));
    await harness.pipe(request(t0 + 10 * minuteMs));
    await harness.pipe(request(t0 + 12 * minuteMs));
    const records = harness.meterRecords();
    const finals = records.filter((r) => r.value?.final === true);
    expect(finals.map((r) => [r.value?.windowStart, r.value?.value])).toEqual([
      [iso(t0), '2'],
      [iso(t0 + minuteMs), '1'],
      [iso(t0 + 2 * minuteMs), '2'],
      [iso(t0 + 3 * minuteMs), '1'],
      [iso(t0 + 10 * minuteMs), '1'],
    ]);
    const lastByKey = new Map(records.map((r) => [r.key, r.value as MeterRecord]));
    for (const final of finals) expect(lastByKey.get(final.key)).toEqual(final.value);
  });

  it('never follows a final with an update when a window changes and closes within one commit', async () => {
    harness = await MeteringHarness.start(meteringConfig(), { commitEveryRecords: 0 });
    await harness.pipeAll([request(t0), request(t0 + 1), request(t0 + 3 * minuteMs)]);
    await harness.driver.commit();
    expect(harness.meters().map((m) => [m.windowStart, m.value, m.final])).toEqual([
      [iso(t0), '2', true],
      [iso(t0 + 3 * minuteMs), '1', false],
    ]);
  });

  it('closes an idle partition\'s windows by the wall clock, once, and later events for them are late', async () => {
    harness = await MeteringHarness.start(meteringConfig({ allowedLatenessMs: 10_000 }), { wallClockMs0: t0 });
    await harness.pipe(request(t0 + 1_000));
    await harness.driver.advanceWallClockTime(minuteMs + 9_000); // t0 + 69 s: not yet
    expect(harness.meters().filter((m) => m.final)).toEqual([]);
    await harness.driver.advanceWallClockTime(1_000); // t0 + 70 s = end + lateness
    expect(harness.meters()).toEqual([expect.objectContaining({ windowStart: iso(t0), value: '1', final: true })]);
    await harness.driver.advanceWallClockTime(5 * minuteMs);
    expect(harness.meters()).toEqual([]);
    await harness.pipe(request(t0 + 2_000));
    // closedAt: the close horizon when the event was judged (the wall clock of the last close).
    expect(harness.late()).toEqual([expect.objectContaining({ windowStart: iso(t0), closedAt: iso(t0 + 6 * minuteMs + 10_000) })]);
    expect(harness.meters()).toEqual([]);
  });

  it('closes more windows than one wall-clock step holds in steps, each window once, and the bound moves past all of them', async () => {
    // Ten minutes of lateness: stream time closes none of the windows, the wall clock all of them.
    harness = await MeteringHarness.start(meteringConfig({ allowedLatenessMs: 10 * minuteMs }), { wallClockMs0: t0 + 3 * minuteMs });
    const subjects = Math.ceil(finalsPerWallClockStep * 0.75);
    const starts = [t0, t0 + minuteMs, t0 + 2 * minuteMs];
    // Each window start holds fewer windows than a step, two of them more: the close takes two steps.
    await harness.pipeAll(starts.flatMap((start) => Array.from({ length: subjects }, (_, i) => request(start + 1, { subject: `s-${i}`, id: `e-${start}-${i}` }))));
    expect(harness.meters().some((m) => m.final)).toBe(false);
    await harness.driver.advanceWallClockTime(20 * minuteMs);
    const finals = harness.meters().filter((m) => m.final);
    expect(finals).toHaveLength(starts.length * subjects);
    expect(new Set(finals.map((m) => `${m.subject}|${m.windowStart}`)).size).toBe(starts.length * subjects);
    expect(finals.every((m) => m.value === '1')).toBe(true);
    // Two steps: the first takes whole starts until it holds a step's worth (the first two), the second the last start.
    const lastStart = finals.map((m) => m.windowStart === iso(t0 + 2 * minuteMs));
    expect(lastStart.indexOf(true)).toBe(2 * subjects);
    expect(lastStart.lastIndexOf(false)).toBe(2 * subjects - 1);
    await harness.pipe(request(t0 + 2 * minuteMs + 5, { subject: 's-0', id: 'late-one' }));
    expect(harness.late()).toEqual([expect.objectContaining({ windowStart: iso(t0 + 2 * minuteMs), subject: 's-0' })]);
    expect(harness.meters()).toEqual([]);
  });

  it('closes by the wall clock in slices of event-loop time with the same finals, in the same order, as in one go', async () => {
    const finalsWith = async (punctuationSliceMs: number | undefined): Promise<string[]> => {
      harness = await MeteringHarness.start(meteringConfig({ allowedLatenessMs: 10 * minuteMs }), {
        wallClockMs0: t0 + 3 * minuteMs,
        ...(punctuationSliceMs === undefined ? {} : { punctuationSliceMs }),
      });
      const starts = [t0, t0 + minuteMs, t0 + 2 * minuteMs];
      await harness.pipeAll(starts.flatMap((start) => Array.from({ length: finalsPerWallClockStep }, (_, i) => request(start + 1, { subject: `s-${i}`, id: `e-${start}-${i}` }))));
      await harness.driver.advanceWallClockTime(20 * minuteMs);
      const finals = harness.meters().filter((m) => m.final).map((m) => `${m.subject}|${m.windowStart}|${m.value}`);
      await harness.close();
      harness = undefined;
      return finals;
    };
    const inOneGo = await finalsWith(undefined);
    // A slice of 0 ms: every firing stops after one step and is fired again until all are closed.
    const inSlices = await finalsWith(0);
    expect(inOneGo).toHaveLength(3 * finalsPerWallClockStep);
    expect(inSlices).toEqual(inOneGo);
  });

  it('stamps every record of a window with the window\'s last instant', async () => {
    harness = await MeteringHarness.start();
    await harness.pipe(request(t0 + 5));
    await harness.pipe(request(t0 + 2 * minuteMs));
    expect(harness.meterRecords().map((r) => r.timestampMs)).toEqual([t0 + minuteMs - 1, t0 + minuteMs - 1, t0 + 3 * minuteMs - 1]);
  });
});

describe('meter aggregate: restarts', () => {
  it('emits each final once across a restart on the same state directory', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const stateDir = await mkdtemp(join(tmpdir(), 'tally-restart-'));
    try {
      const config = meteringConfig();
      const first = await MeteringHarness.start(config, { stateDir, wallClockMs0: t0 });
      await first.pipe(request(t0 + 1_000));
      await first.pipe(request(t0 + minuteMs + 1_000)); // closes window 0
      const before = first.meters().filter((m) => m.final).map((m) => m.windowStart);
      await first.close();

      harness = await MeteringHarness.start(config, { stateDir, wallClockMs0: t0 + minuteMs + 2_000 });
      await harness.pipe(request(t0 + 3 * minuteMs)); // closes window 1 (and would re-close window 0 without durable state)
      await harness.driver.advanceWallClockTime(minuteMs); // wall clock too: window 0 must not come back
      await harness.pipe(request(t0 + 2_000)); // window 0 stays closed after the restart
      const after = harness.meters().filter((m) => m.final);
      expect(before).toEqual([iso(t0)]);
      expect(after.map((m) => [m.windowStart, m.value])).toEqual([[iso(t0 + minuteMs), '1']]);
      expect(harness.late()).toEqual([expect.objectContaining({ windowStart: iso(t0) })]);
    } finally {
      await harness?.close();
      harness = undefined;
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});

describe('meter aggregate: values through the pipeline', () => {
  it('LATEST keeps the value of the latest event time, then the higher input offset', async () => {
    const meters: MeterConfig[] = [{ slug: 'seats', eventType: 'seats.set', aggregation: 'LATEST', valueProperty: '$.seats', groupBy: {} }];
    harness = await MeteringHarness.start(meteringConfig({ meters }));
    const seats = (timeMs: number, value: number) => cloudEvent({ type: 'seats.set', timeMs, data: { seats: value } });
    await harness.pipeAll([seats(t0 + 30_000, 5), seats(t0 + 10_000, 9), seats(t0 + 30_000, 7), seats(t0 + 20_000, 1)]);
    expect(harness.meters().map((m) => m.value)).toEqual(['5', '5', '7', '7']);
  });

  it('SUM is exact through stores and changelogs: 0.1 a thousand times is "100"', async () => {
    harness = await MeteringHarness.start(meteringConfig(), { commitEveryRecords: 100 });
    for (let i = 0; i < 1000; i++) await harness.pipe(cloudEvent({ type: 'llm.tokens', timeMs: t0 + i, data: { tokens: 0.1 } }));
    await harness.driver.commit();
    expect(harness.meters().at(-1)).toMatchObject({ meter: 'tokens', value: '100', count: 1000, aggregation: 'SUM' });
  });
});

describe('meter aggregate: partitioning', () => {
  it('repartitions by subject, so one subject\'s events from every input partition meet in one window', async () => {
    harness = await MeteringHarness.start(meteringConfig(), { partitions: { 'usage-events': 3 } });
    for (let partition = 0; partition < 3; partition++) await harness.pipe(request(t0 + partition), { partition });
    const meters = harness.meters();
    expect(meters.at(-1)).toMatchObject({ subject: 'customer-1', value: '3', count: 3 });
    expect(new Set(harness.driver.readAll('tally-events-by-subject-repartition').map((r) => r.partition)).size).toBe(1);
  });

  it('skips the repartition when the input is keyed by subject, with the same results', async () => {
    const events = [request(t0), request(Date.parse('2099-01-01T00:00:00Z')), request(t0 + 1), request(t0 + 2 * minuteMs), request(t0 + 3), 'junk'];
    const run = async (keyedBySubject: boolean) => {
      const h = await MeteringHarness.start(meteringConfig(), { keyedBySubject });
      for (const event of events) await h.pipe(event, { key: 'customer-1' });
      const result = { meters: h.meters(), late: h.late(), dead: h.deadLetters().map((d) => d.reason), topics: h.driver.topicsWithRecords() };
      await h.close();
      return result;
    };
    const keyed = await run(true);
    const repartitioned = await run(false);
    expect(keyed.topics).not.toContain('tally-events-by-subject-repartition');
    expect(repartitioned.topics).toContain('tally-events-by-subject-repartition');
    expect(keyed.meters).toEqual(repartitioned.meters);
    expect(keyed.late).toEqual(repartitioned.late);
    expect(keyed.dead).toEqual(['future-time', 'invalid-encoding']);
    expect(keyed.dead).toEqual(repartitioned.dead);
  });
});
