/**
 * The background sender: drains the outbox, oldest first, in batches, and
 * removes a batch only after Kafka acknowledged it. A failed send is retried
 * for ever with exponential backoff; nothing is ever dropped. Each retry uses
 * a fresh producer (a broker that restarted may have forgotten the old one),
 * so a batch the broker wrote just before the failure can be written again:
 * the same event ids, which the pipeline's dedupe on (source, id) removes.
 */
import type { Producer } from 'kafkajs';
import { UsageClientError } from './client-errors.js';
import { backoffDelayMs, type BackoffOptions } from './backoff.js';
import { allReplicasAcks } from './idempotent-producer.js';
import type { Outbox, OutboxEntry } from './outbox.js';
import type { UsageClientLogger } from './usage-client-options.js';

/** A send holds at most this many value bytes (well under the broker's default 1 MiB request limit). */
const maxBatchBytes = 512 * 1024;

export interface OutboxSenderOptions {
  readonly topic: string;
  readonly batchSize: number;
  readonly lingerMs: number;
  readonly backoff: BackoffOptions;
  readonly closeTimeoutMs: number;
  readonly logger: UsageClientLogger;
  readonly createProducer: () => Producer;
}

/** What went wrong while sending (what was sent is the outbox's removedCount). */
export interface SenderCounts {
  /** Sends (or connects) that failed. */
  sendFailures: number;
  /** Sends retried after a failure. */
  retries: number;
  /** The last send failure's message; undefined until one happens. */
  lastError: string | undefined;
}

interface DrainWaiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Keeps the oldest entries that fit one send (at least one). */
function fitBatch(entries: OutboxEntry[]): OutboxEntry[] {
  let bytes = 0;
  for (let index = 0; index < entries.length; index++) {
    bytes += (entries[index] as OutboxEntry).value.length;
    if (bytes > maxBatchBytes && index > 0) return entries.slice(0, index);
  }
  return entries;
}

export class OutboxSender {
  readonly counts: SenderCounts = { sendFailures: 0, retries: 0, lastError: undefined };
  #producer: Producer | undefined;
  #stopping = false;
  #loop: Promise<void> | undefined;
  #wakeUp: (() => void) | undefined;
  readonly #drainWaiters = new Set<DrainWaiter>();

  constructor(
    private readonly outbox: Outbox,
    private readonly options: OutboxSenderOptions,
  ) {}

  start(): void {
    this.#loop ??= this.#run().catch((error: unknown) => {
      if (this.#stopping) return;
      this.options.logger.warn(
        `tally usage client: the sender stopped: ${describe(error)}; the ${this.outbox.pendingCount} events in ${this.outbox.directory} ` +
          'are kept; close the client and open it again to resume sending',
      );
    });
  }

  /** New entries are in the outbox. */
  wake(): void {
    this.#wakeUp?.();
  }

  /**
   * Resolves when the outbox is empty; sends without lingering meanwhile.
   * Rejects after `timeoutMs` (the events stay in the outbox) or on stop().
   */
  drained(timeoutMs: number): Promise<void> {
    if (this.outbox.pendingCount === 0) return Promise.resolve();
    if (this.#stopping) return Promise.reject(this.#closedError());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#drainWaiters.delete(waiter);
        const last = this.counts.lastError === undefined ? '' : ` (last send error: ${this.counts.lastError})`;
        reject(new UsageClientError(
          'client-flush-timeout',
          `flush timed out after ${timeoutMs} ms: ${this.outbox.pendingCount} events are still in the outbox ${this.outbox.directory}${last}. ` +
            'They are kept and sent once Kafka acknowledges them; flush again, or close and open later.',
          { retriable: true },
        ));
      }, timeoutMs);
      const waiter: DrainWaiter = {
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (error) => (clearTimeout(timer), reject(error)),
      };
      this.#drainWaiters.add(waiter);
      this.wake();
    });
  }

  /**
   * Stops sending. A send in flight gets `closeTimeoutMs` to finish (its
   * events leave the outbox if Kafka acknowledges them); after that the
   * producer is disconnected and its events stay for the next open.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.wake();
    const error = this.#closedError();
    for (const waiter of this.#drainWaiters) waiter.reject(error);
    this.#drainWaiters.clear();
    if (this.#loop !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.closeTimeoutMs)));
      await Promise.race([this.#loop, timeout]);
      clearTimeout(timer);
    }
    await this.#discardProducer();
  }

  #closedError(): UsageClientError {
    return new UsageClientError(
      'client-closed',
      `the client was closed before the outbox drained; ${this.outbox.pendingCount} events stay in ${this.outbox.directory} and are sent after the next open()`,
    );
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      if (this.outbox.pendingCount === 0) {
        await this.#pause(undefined);
        continue;
      }
      await this.#linger();
      if (this.#stopping) return;
      const entries = fitBatch(await this.outbox.readHead(this.options.batchSize));
      if (entries.length === 0) continue;
      const removed = await this.#sendUntilAcknowledged(entries);
      if (!removed) return;
      if (this.outbox.pendingCount > 0) continue;
      for (const waiter of this.#drainWaiters) waiter.resolve();
      this.#drainWaiters.clear();
    }
  }

  /** Waits up to lingerMs for a full batch, unless someone waits for the outbox to drain. */
  async #linger(): Promise<void> {
    const deadlineMs = Date.now() + this.options.lingerMs;
    while (!this.#stopping && this.#drainWaiters.size === 0 && this.outbox.pendingCount < this.options.batchSize && Date.now() < deadlineMs) {
      await this.#pause(deadlineMs - Date.now());
    }
  }

  /** Sends `entries` until Kafka acknowledges them, then removes them; false when stopped first. */
  async #sendUntilAcknowledged(entries: readonly OutboxEntry[]): Promise<boolean> {
    const messages = entries.map((entry) => ({ key: entry.key, value: entry.value }));
    for (let attempt = 1; ; attempt++) {
      try {
        if (this.#producer === undefined) {
          const producer = await this.#connect();
          // stop() may have run while connecting: it can no longer reach this producer to disconnect it.
          if (this.#stopping) {
            await producer.disconnect().catch(() => undefined);
            return false;
          }
          this.#producer = producer;
        }
        await this.#producer.send({ topic: this.options.topic, messages, acks: allReplicasAcks });
      } catch (error) {
        if (this.#stopping) return false;
        await this.#afterFailure(error, entries.length, attempt);
        if (this.#stopping) return false;
        this.counts.retries++;
        continue;
      }
      if (attempt > 1) this.options.logger.info(`tally usage client: sending to ${this.options.topic} works again after ${attempt - 1} failed attempts`);
      try {
        await this.outbox.removeHead(entries);
      } catch {
        // Closed under us (close() timed out): the events stay and are sent again after the next open, same ids.
        return false;
      }
      return true;
    }
  }

  async #afterFailure(error: unknown, batchEvents: number, attempt: number): Promise<void> {
    this.counts.sendFailures++;
    this.counts.lastError = describe(error);
    await this.#discardProducer();
    const delayMs = backoffDelayMs(attempt, this.options.backoff);
    this.options.logger.warn(
      `tally usage client: sending ${batchEvents} events to ${this.options.topic} failed (${this.counts.lastError}); ` +
        `${this.outbox.pendingCount} events are safe in the outbox ${this.outbox.directory}; retry ${attempt} in ${delayMs} ms`,
    );
    const until = Date.now() + delayMs;
    while (!this.#stopping && Date.now() < until) await this.#pause(until - Date.now());
  }

  async #connect(): Promise<Producer> {
    const producer = this.options.createProducer();
    try {
      await producer.connect();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
    return producer;
  }

  async #discardProducer(): Promise<void> {
    const producer = this.#producer;
    this.#producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  /** Sleeps until `ms` passed (undefined: no limit) or wake() is called. */
  #pause(ms: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        if (self.#wakeUp === done) self.#wakeUp = undefined;
        resolve();
      }
      this.#wakeUp = done;
    });
  }
}
