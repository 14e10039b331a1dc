/**
 * When the next commit round is due, and the round under way. A round is due
 * once the commit interval has passed since the last one began *and* that
 * one has ended: under exactly-once a round's transactions commit while the
 * tasks go on processing, and a round slower than the interval (round trips
 * to a busy broker) postpones the next one instead of stalling processing
 * until it ends — the next transaction is then larger. (A cache that needs
 * its flush does not ask: it commits at once, waiting for the round.)
 */
import type { CommitRound } from './commit.js';

export interface RoundUnderWay {
  readonly finished: Promise<CommitRound>;
  /** `performance.now()` when it began, for the commit-duration metric. */
  readonly startedMs: number;
}

export class CommitSchedule {
  #lastBeganMs = 0;
  #underWay: (RoundUnderWay & { ended: boolean }) | undefined;

  constructor(private readonly intervalMs: number) {}

  /** True when the interval has passed since the last round began and no round is still under way. */
  isDue(nowMs: number): boolean {
    if (this.#underWay !== undefined && !this.#underWay.ended) return false;
    return nowMs - this.#lastBeganMs >= this.intervalMs;
  }

  /** A round began at `nowMs` (wall clock); it is under way until `finished` settles. */
  began(nowMs: number, round: RoundUnderWay): void {
    this.#lastBeganMs = nowMs;
    const underWay = { ...round, ended: false };
    void round.finished.then(() => (underWay.ended = true));
    this.#underWay = underWay;
  }

  /** The last round, until `handled()`: under way, or ended with its outcome still to handle. */
  get underWay(): RoundUnderWay | undefined {
    return this.#underWay;
  }

  /** True when the last round has ended and its outcome is still to handle. */
  get ended(): boolean {
    return this.#underWay?.ended === true;
  }

  /** The last round's outcome was handled. */
  handled(): void {
    this.#underWay = undefined;
  }
}
