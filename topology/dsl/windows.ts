/**
 * Tumbling and hopping event-time windows: half-open [start, end), aligned to
 * the epoch, with a grace period for late records.
 */
import { TopologyError } from '../../schemas/index.js';
import type { TimeWindow } from '../record.js';

export class TimeWindows {
  readonly sizeMs: number;
  readonly advanceMs: number;
  readonly graceMs: number;

  private constructor(sizeMs: number, advanceMs: number, graceMs: number) {
    for (const [what, ms] of [['size', sizeMs], ['advance', advanceMs], ['grace', graceMs]] as const) {
      if (!Number.isInteger(ms) || ms < (what === 'grace' ? 0 : 1)) {
        throw new TopologyError('windows-invalid', `window ${what} must be a whole number of ms (${what === 'grace' ? '>= 0' : '> 0'}), got ${ms}`);
      }
    }
    if (advanceMs > sizeMs) throw new TopologyError('windows-invalid', `window advance (${advanceMs} ms) cannot exceed its size (${sizeMs} ms)`);
    this.sizeMs = sizeMs;
    this.advanceMs = advanceMs;
    this.graceMs = graceMs;
  }

  /** Tumbling windows of `sizeMs` with no grace. */
  static ofSize(sizeMs: number): TimeWindows {
    return new TimeWindows(sizeMs, sizeMs, 0);
  }

  /** Accept records until stream time reaches window end + `graceMs`. */
  grace(graceMs: number): TimeWindows {
    return new TimeWindows(this.sizeMs, this.advanceMs, graceMs);
  }

  /** Hopping windows: a new window every `advanceMs`. */
  advanceBy(advanceMs: number): TimeWindows {
    return new TimeWindows(this.sizeMs, advanceMs, this.graceMs);
  }

  /** Every window that holds `timestampMs`, oldest first. */
  windowsFor(timestampMs: number): TimeWindow[] {
    const windows: TimeWindow[] = [];
    const first = Math.max(0, timestampMs - this.sizeMs + this.advanceMs);
    for (let startMs = first - (first % this.advanceMs); startMs <= timestampMs; startMs += this.advanceMs) {
      windows.push({ startMs, endMs: startMs + this.sizeMs });
    }
    return windows;
  }

  /** A window is open while `end + grace > streamTime` (strict, as Kafka Streams). */
  isOpen(window: TimeWindow, streamTimeMs: number): boolean {
    return window.endMs + this.graceMs > streamTimeMs;
  }
}
