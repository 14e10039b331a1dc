/**
 * The guard between a task's processing and interactive reads of its
 * stores. Reads do not wait for the app's serial queue (a fetched batch, a
 * commit and its round trips to the broker): they run whenever the event
 * loop lets them (local-store-reads.ts). What keeps them correct:
 *
 * - a read starts only while its task runs. Records are processed
 *   synchronously, so a read never starts in the middle of one: it sees
 *   whole records. Each scan is a snapshot of its store taken when it starts
 *   (state/store-core.ts), so what the task does meanwhile is not seen;
 * - work that may leave a task's stores half-changed across an await (an
 *   asynchronous wall-clock punctuator) runs `exclusive`: reads wait for it;
 * - closing the task (suspended first, so no read starts any more) waits for
 *   the reads in flight before it closes the stores.
 */
export class TaskReads {
  #inFlight = 0;
  #drained: (() => void)[] = [];
  #exclusive: Promise<unknown> | undefined;

  /** True while exclusive work runs: a read must not start now. */
  get isExclusive(): boolean {
    return this.#exclusive !== undefined;
  }

  /** Resolves when the exclusive work running now ends (other work may have started by then). */
  async exclusiveEnded(): Promise<void> {
    await this.#exclusive?.catch(() => undefined);
  }

  /** A read starts; call `leave` when it ends, whatever happens. */
  enter(): void {
    this.#inFlight++;
  }

  leave(): void {
    if (--this.#inFlight === 0) for (const resolve of this.#drained.splice(0)) resolve();
  }

  /** Runs `work`; reads that arrive meanwhile start after it ends. */
  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    const running = work();
    this.#exclusive = running;
    try {
      return await running;
    } finally {
      if (this.#exclusive === running) this.#exclusive = undefined;
    }
  }

  /** Resolves once no read is in flight. */
  drained(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }
}
