import { afterEach, describe, expect, it } from 'vitest';
import { StreamRecord, TopologyBuilder, TopologyTestDriver, type Cancellable, type ProcessorContext } from '../../topology/index.js';

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

/** What a punctuator does when it fires: it may forward, and cancel its own schedule. */
type Punctuation = (context: ProcessorContext, timestampMs: number, schedule: Cancellable) => void;

/**
 * A topology whose one processor schedules a punctuator of `type` every
 * `intervalMs`, made by `punctuation` for each processor instance; what it
 * forwards goes to `topic`.
 */
function punctuating(type: 'stream-time' | 'wall-clock', intervalMs: number, topic: string, punctuation: () => Punctuation) {
  return new TopologyBuilder()
    .addSource('in', ['in'])
    .addProcessor('punctuating', () => {
      const punctuate = punctuation();
      return {
        init(context) {
          const schedule: Cancellable = context.schedule(intervalMs, type, (timestampMs) => punctuate(context, timestampMs, schedule));
        },
        process: () => undefined,
      };
    }, ['in'])
    .addSink('out', topic, ['punctuating'])
    .build();
}

function scheduling(type: 'stream-time' | 'wall-clock', intervalMs: number, fired: number[], cancelAfter?: number) {
  return punctuating(type, intervalMs, 'ticks', () => (context, timestampMs, schedule) => {
    fired.push(timestampMs);
    if (cancelAfter !== undefined && fired.length >= cancelAfter) schedule.cancel();
    context.forward(new StreamRecord({ key: null, value: Buffer.from(String(timestampMs)), timestampMs }));
  });
}

describe('punctuation', () => {
  it('stream-time punctuators fire as records move stream time, once per jump, never for out-of-order records', async () => {
    const fired: number[] = [];
    driver = await TopologyTestDriver.create(scheduling('stream-time', 1000, fired));
    for (const t of [10, 500, 1000, 999, 1500, 5200, 5300, 6000]) await driver.inputTopic('in').pipe(null, 'x', { timestampMs: t });
    expect(fired).toEqual([10, 1000, 5200, 6000]);
    expect(driver.readAll('ticks').map((r) => r.value?.toString())).toEqual(['10', '1000', '5200', '6000']);
  });

  it('wall-clock punctuators fire only when the wall clock moves', async () => {
    const fired: number[] = [];
    driver = await TopologyTestDriver.create(scheduling('wall-clock', 1000, fired), { initialWallClockMs: 100 });
    await driver.inputTopic('in').pipe(null, 'x', { timestampMs: 99_999 });
    expect(fired).toEqual([]);
    await driver.advanceWallClockTime(899);
    expect(fired).toEqual([]);
    await driver.advanceWallClockTime(1);
    await driver.advanceWallClockTime(2500);
    expect(fired).toEqual([1000, 3500]);
  });

  it('a cancelled schedule stops firing', async () => {
    const fired: number[] = [];
    driver = await TopologyTestDriver.create(scheduling('wall-clock', 10, fired, 2));
    for (let i = 0; i < 5; i++) await driver.advanceWallClockTime(10);
    expect(fired).toEqual([10, 20]);
  });
});

/** A wall-clock punctuator with `items` to emit, one per step, while the context lets it go on; `firings` counts its firings. */
function backlog(items: number, firings: number[]) {
  return punctuating('wall-clock', 1000, 'items', () => {
    let left = items;
    return (context, timestampMs) => {
      firings.push(timestampMs);
      while (left > 0 && context.mayContinue()) {
        context.forward(new StreamRecord({ key: null, value: Buffer.from(String(left)), timestampMs }));
        left--;
      }
    };
  });
}

describe('wall-clock punctuation in slices', () => {
  it('fires a punctuator its slice stopped again until it is done, a step per firing at least, then at its interval', async () => {
    const firings: number[] = [];
    // A slice of 0 ms: every firing is stopped after its first step.
    driver = await TopologyTestDriver.create(backlog(4, firings), { initialWallClockMs: 0, punctuationSliceMs: 0 });
    await driver.advanceWallClockTime(1000);
    expect(driver.readAll('items').map((r) => r.value?.toString())).toEqual(['4', '3', '2', '1']);
    // Four firings with a step each; the last one did not ask again, having nothing left.
    expect(firings).toEqual([1000, 1000, 1000, 1000]);
    await driver.advanceWallClockTime(500);
    expect(firings).toHaveLength(4); // resumed firings kept the schedule's due time: the next is at 2000
    await driver.advanceWallClockTime(500);
    expect(firings).toEqual([1000, 1000, 1000, 1000, 2000]);
  });

  it('without a slice, one firing does it all', async () => {
    const firings: number[] = [];
    driver = await TopologyTestDriver.create(backlog(4, firings), { initialWallClockMs: 0 });
    await driver.advanceWallClockTime(1000);
    expect(driver.readAll('items')).toHaveLength(4);
    expect(firings).toEqual([1000]);
  });
});

describe('the synchronous per-record path', () => {
  it('refuses a stream-time punctuator that returns a promise, saying what may be async instead', async () => {
    const topology = new TopologyBuilder()
      .addSource('in', ['in'])
      .addProcessor('slow', () => ({
        init(ctx) {
          ctx.schedule(1, 'stream-time', async () => undefined);
        },
        process: () => undefined,
      }), ['in'])
      .build();
    driver = await TopologyTestDriver.create(topology);
    await expect(driver.inputTopic('in').pipe(null, 'x', { timestampMs: 5 })).rejects.toThrow(/stream-time punctuators run on the per-record path and must be synchronous/);
  });

  it('refuses a processor whose process() returns a promise', async () => {
    const topology = new TopologyBuilder()
      .addSource('in', ['in'])
      .addProcessor('slow', () => ({ process: (() => Promise.resolve()) as () => void }), ['in'])
      .build();
    driver = await TopologyTestDriver.create(topology);
    await expect(driver.inputTopic('in').pipe(null, 'x')).rejects.toThrow(/returned a promise from process\(\); process\(\) must be synchronous/);
  });

  it('runs a source prepare step, and waits for it, before the record is processed', async () => {
    const prepared = new Set<string>();
    const seen: string[] = [];
    const topology = new TopologyBuilder()
      .addSource('in', ['in'], {
        prepare: (value) => {
          const text = value?.toString() ?? '';
          if (prepared.has(text)) return undefined;
          return new Promise<void>((resolve) => setTimeout(() => {
            prepared.add(text);
            resolve();
          }, 5));
        },
      })
      .addProcessor('check', () => ({
        process: (record) => {
          const text = (record.value as Buffer).toString();
          seen.push(`${text}:${prepared.has(text) ? 'ready' : 'missing'}`);
        },
      }), ['in'])
      .build();
    driver = await TopologyTestDriver.create(topology);
    await driver.inputTopic('in').pipe(null, 'a');
    await driver.inputTopic('in').pipe(null, 'a');
    expect(seen).toEqual(['a:ready', 'a:ready']);
  });
});
