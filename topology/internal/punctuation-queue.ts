/**
 * Punctuation schedules of one kind (stream time or wall clock) for one task.
 * A schedule fires once when the clock reaches its next due time, then is due
 * again at the next multiple of its interval after that time — so a jump of
 * many intervals fires once, not once per missed interval, and due times are
 * aligned to the epoch (the same across restarts).
 */
import type { Cancellable, Punctuator } from '../processor.js';

interface Schedule {
  readonly intervalMs: number;
  readonly punctuator: Punctuator;
  dueMs: number;
  cancelled: boolean;
  /** Stopped before it was done (see fireDue): fired again at the next call, due or not. */
  unfinished: boolean;
}

/** Runs one firing of a punctuator; true when the punctuator stopped before it was done. */
export type PunctuationFiring = (punctuator: Punctuator) => Promise<boolean>;

export class PunctuationQueue {
  private readonly schedules: Schedule[] = [];

  /** Adds a schedule; the first firing is at the first multiple of `intervalMs` after `nowMs`. */
  schedule(intervalMs: number, nowMs: number, punctuator: Punctuator): Cancellable {
    if (!(Number.isInteger(intervalMs) && intervalMs > 0)) {
      throw new RangeError(`punctuation interval must be a positive whole number of ms, got ${intervalMs}`);
    }
    const schedule: Schedule = { intervalMs, punctuator, dueMs: nextMultiple(nowMs, intervalMs), cancelled: false, unfinished: false };
    this.schedules.push(schedule);
    return {
      cancel: () => {
        schedule.cancelled = true;
        const index = this.schedules.indexOf(schedule);
        if (index >= 0) this.schedules.splice(index, 1);
      },
    };
  }

  /**
   * Fires every schedule due at `nowMs`, and every one a firing of the last
   * call left unfinished, in the order they were added, awaiting each.
   * `fire` runs a firing and says whether it stopped before it was done. A
   * resumed schedule keeps its due time. True when one is left unfinished.
   */
  async fireDue(nowMs: number, fire: PunctuationFiring): Promise<boolean> {
    let unfinished = false;
    for (const schedule of [...this.schedules]) {
      if (schedule.cancelled || (schedule.dueMs > nowMs && !schedule.unfinished)) continue;
      if (schedule.dueMs <= nowMs) schedule.dueMs = nextMultiple(nowMs, schedule.intervalMs);
      schedule.unfinished = await fire(schedule.punctuator);
      if (schedule.unfinished) unfinished = true;
    }
    return unfinished;
  }

  /** Fires every schedule due at `nowMs`, in the order they were added; the punctuators are synchronous. */
  fireDueSync(nowMs: number): void {
    const schedules = this.schedules;
    if (schedules.length === 0) return;
    let anyDue = false;
    for (let index = 0; index < schedules.length; index++) if ((schedules[index] as Schedule).dueMs <= nowMs) anyDue = true;
    if (!anyDue) return;
    for (const schedule of [...schedules]) {
      if (schedule.cancelled || schedule.dueMs > nowMs) continue;
      schedule.dueMs = nextMultiple(nowMs, schedule.intervalMs);
      void schedule.punctuator(nowMs);
    }
  }

  get size(): number {
    return this.schedules.length;
  }
}

function nextMultiple(timeMs: number, intervalMs: number): number {
  return (Math.floor(timeMs / intervalMs) + 1) * intervalMs;
}
