/**
 * The usage client: applications record usage; the client turns each record
 * into a checked CloudEvent, keeps it in a durable outbox, and a background
 * sender delivers it to Kafka at least once. With the pipeline's dedupe on
 * (source, id) that makes every event count exactly once.
 */
import type { UsageEvent } from '../schemas/index.js';
import { UsageClientError } from './client-errors.js';
import { createIdempotentProducer, createKafkaClient } from './idempotent-producer.js';
import { Outbox } from './outbox.js';
import { OutboxSender } from './outbox-sender.js';
import { buildUsageEvent, type UsageRecordInput } from './usage-event.js';
import { resolveUsageClientOptions, type ResolvedUsageClientOptions, type UsageClientOptions } from './usage-client-options.js';

/** Counts for reconciling what the application recorded with what Kafka holds. */
export interface UsageClientStats {
  /** Events record() accepted since open() (each durably in the outbox when counted). */
  readonly recorded: number;
  /** Events Kafka acknowledged since open(), including ones an earlier run recorded. */
  readonly sent: number;
  /** Events in the outbox now, waiting for an acknowledgement (including an earlier run's). */
  readonly pending: number;
  /** Events an earlier run left in the outbox, found by open(). `pendingAtOpen + recorded = sent + pending`. */
  readonly pendingAtOpen: number;
  /** Failed sends (or connects) since open(). */
  readonly sendFailures: number;
  /** Sends retried after a failure since open(). */
  readonly retries: number;
  /** The last send failure's message. */
  readonly lastError: string | undefined;
}

export interface UsageClient {
  /**
   * Opens the outbox (creating it if needed) and starts the sender, which
   * first delivers whatever an earlier run left there.
   * @throws UsageClientError `client-outbox-locked` when another client holds the outbox
   */
  open(): Promise<void>;
  /**
   * Builds the CloudEvent, checks it with the pipeline's rules, and writes it
   * to the outbox; resolves (with the event, including its id) once it is on
   * disk. Sending happens in the background.
   * @throws InvalidUsageEventError naming the bad field; the event is not recorded
   */
  record(input: UsageRecordInput): Promise<UsageEvent>;
  /**
   * Resolves once the outbox is empty (every event acknowledged by Kafka).
   * @throws UsageClientError `client-flush-timeout` after `timeoutMs` (default 30 s); nothing is lost
   */
  flush(timeoutMs?: number): Promise<void>;
  /** Stops the sender and closes the outbox; unsent events stay there for the next open(). Idempotent. */
  close(): Promise<void>;
  stats(): UsageClientStats;
}

/** A client for `options` (checked now: a ConfigError lists every problem). Call open() before record(). */
export function createUsageClient(options: UsageClientOptions): UsageClient {
  return new OutboxUsageClient(resolveUsageClientOptions(options));
}

const defaultFlushTimeoutMs = 30_000;

class OutboxUsageClient implements UsageClient {
  #state: 'created' | 'opening' | 'open' | 'closed' = 'created';
  #outbox: Outbox | undefined;
  #sender: OutboxSender | undefined;
  #pendingAtOpen = 0;
  #opening: Promise<void> | undefined;

  constructor(private readonly options: ResolvedUsageClientOptions) {}

  open(): Promise<void> {
    if (this.#state !== 'created') {
      return Promise.reject(new UsageClientError('client-open-twice', `this client was already ${this.#state === 'closed' ? 'closed' : 'opened'}; create a new client to open the outbox again`));
    }
    this.#state = 'opening';
    this.#opening = this.#open();
    return this.#opening;
  }

  async #open(): Promise<void> {
    const { options } = this;
    try {
      this.#outbox = await Outbox.open(options.outboxDir, () => this.#sender?.wake());
    } catch (error) {
      this.#state = 'closed';
      throw error;
    }
    this.#pendingAtOpen = this.#outbox.pendingCount;
    // kafkajs retries a send a little (with the same sequence numbers, so the broker drops a batch it already has);
    // after that the sender logs the failure and retries with its own backoff, for ever.
    const producerRetry = { retries: 2, initialRetryMs: options.backoff.initialMs, maxRetryMs: options.backoff.maxMs };
    this.#sender = new OutboxSender(this.#outbox, {
      topic: options.topic,
      batchSize: options.batchSize,
      lingerMs: options.lingerMs,
      backoff: options.backoff,
      closeTimeoutMs: options.closeTimeoutMs,
      logger: options.logger,
      createProducer: () => createIdempotentProducer(createKafkaClient(options, producerRetry), producerRetry),
    });
    this.#sender.start();
    this.#state = 'open';
    if (this.#pendingAtOpen > 0) options.logger.info(`tally usage client: ${this.#pendingAtOpen} events from an earlier run are in the outbox ${options.outboxDir}; sending them first`);
  }

  async record(input: UsageRecordInput): Promise<UsageEvent> {
    const outbox = this.#openOutbox();
    const { event, key, value } = buildUsageEvent(input, this.options.source, Date.now(), this.options);
    await outbox.append(key, value);
    return event;
  }

  async flush(timeoutMs = defaultFlushTimeoutMs): Promise<void> {
    this.#openOutbox();
    await (this.#sender as OutboxSender).drained(timeoutMs);
  }

  async close(): Promise<void> {
    await this.#opening?.catch(() => undefined);
    if (this.#state !== 'open') {
      this.#state = 'closed';
      return;
    }
    this.#state = 'closed';
    await this.#sender?.stop();
    await this.#outbox?.close();
  }

  stats(): UsageClientStats {
    const counts = this.#sender?.counts ?? { sendFailures: 0, retries: 0, lastError: undefined };
    return {
      recorded: this.#outbox?.appendedCount ?? 0,
      sent: this.#outbox?.removedCount ?? 0,
      pending: this.#outbox?.pendingCount ?? 0,
      pendingAtOpen: this.#pendingAtOpen,
      sendFailures: counts.sendFailures,
      retries: counts.retries,
      lastError: counts.lastError,
    };
  }

  #openOutbox(): Outbox {
    if (this.#state === 'open' && this.#outbox !== undefined) return this.#outbox;
    if (this.#state === 'closed') throw new UsageClientError('client-closed', `the client is closed; create a new one and open() it (the outbox ${this.options.outboxDir} keeps unsent events)`);
    throw new UsageClientError('client-not-open', 'the client is not open yet; await client.open() first');
  }
}
