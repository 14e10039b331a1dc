import { describe, expect, it } from 'vitest';
import { ProcessingSlices, yieldToEventLoop } from '../../topology/kafka/processing-slices.js';

describe('processing slices', () => {
  it('give the event loop a turn at the start of a batch once the slice has run out, and not before', () => {
    let nowMs = 0;
    const slices = new ProcessingSlices(2, 16, () => nowMs);
    nowMs = 1.9;
    expect(slices.turnDue(true)).toBe(false);
    nowMs = 2;
    expect(slices.turnDue(true)).toBe(true);
    slices.turnGiven();
    expect(slices.turnDue(true)).toBe(false);
  });

  it('look at the clock within a batch only every so many records, counting those a repartition batch expands into', () => {
    let nowMs = 0;
    let clockReads = 0;
    const slices = new ProcessingSlices(2, 16, () => (clockReads++, nowMs));
    clockReads = 0;
    nowMs = 5;
    slices.processed(15);
    expect(slices.turnDue(false)).toBe(false);
    expect(clockReads).toBe(0);
    slices.processed(1);
    expect(slices.turnDue(false)).toBe(true);
    expect(clockReads).toBe(1);
    slices.turnGiven();
    slices.processed(300);
    nowMs = 6;
    expect(slices.turnDue(false)).toBe(false);
    nowMs = 7;
    slices.processed(16);
    expect(slices.turnDue(false)).toBe(true);
  });

  it('let pending I/O callbacks and timers run during a turn', async () => {
    const order: string[] = [];
    setImmediate(() => order.push('pending callback'));
    await yieldToEventLoop();
    order.push('processing resumes');
    expect(order).toEqual(['pending callback', 'processing resumes']);
  });
});
