/**
 * Cuts the processing of fetched batches into slices of event-loop time.
 * Records are processed synchronously, and the batches of one fetch follow
 * each other without the event loop getting a turn: a large fetch would hold
 * HTTP requests and interactive reads for as long as it takes. Processing
 * that has held the loop for `sliceMs` since its last turn gives it one
 * (between two records) before it goes on.
 */

/** Event-loop time (ms) processing holds before it gives the loop a turn. */
export const processingSliceMs = 5;

/** Lets every pending I/O callback (an HTTP request, a fetch response) run, then resumes. */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class ProcessingSlices {
  #sliceStartedMs: number;
  #recordsSinceClockCheck = 0;

  /**
   * `sliceMs`: event-loop time processing may hold before it gives a turn;
   * `recordsPerClockCheck`: records between two looks at the clock (it costs
   * a call); `clockMs`: the monotonic clock, ms.
   */
  constructor(
    private readonly sliceMs = processingSliceMs,
    private readonly recordsPerClockCheck = 16,
    private readonly clockMs: () => number = () => performance.now(),
  ) {
    this.#sliceStartedMs = clockMs();
  }

  /** Counts `records` processed. */
  processed(records: number): void {
    this.#recordsSinceClockCheck += records;
  }

  /**
   * True when processing must give the event loop a turn now: at the start
   * of a batch, or once every `recordsPerClockCheck` records, when `sliceMs`
   * have passed since the last turn. Call `turnGiven` after the turn.
   */
  turnDue(batchStart: boolean): boolean {
    if (!batchStart && this.#recordsSinceClockCheck < this.recordsPerClockCheck) return false;
    this.#recordsSinceClockCheck = 0;
    return this.clockMs() - this.#sliceStartedMs >= this.sliceMs;
  }

  /** The event loop had its turn: a new slice starts. */
  turnGiven(): void {
    this.#sliceStartedMs = this.clockMs();
  }
}
