/**
 * Errors the usage client throws. Both carry a stable `code` (from the
 * project's root {@link TallyError}); messages say what is wrong and what to do.
 */
import { TallyError, type DeadLetterReason } from '../schemas/index.js';

/**
 * `record()` refused an event: the pipeline would dead-letter it. The event
 * was not written to the outbox and will never be sent.
 */
export class InvalidUsageEventError extends TallyError {
  /** The dead-letter reason code the pipeline would have given the event. */
  readonly reason: DeadLetterReason;

  constructor(reason: DeadLetterReason, message: string) {
    super('usage-event-invalid', `usage event rejected (${reason}): ${message}`);
    this.reason = reason;
  }
}

/** The client cannot do what was asked: not open, closed, outbox locked, flush timed out. */
export class UsageClientError extends TallyError {}
