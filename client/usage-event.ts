/**
 * Builds a usage event as a CloudEvent 1.0 in the JSON structured format and
 * checks it with the pipeline's own ingest rules (the same decoder and
 * validation `processors/` runs, and the future bound), so an event the
 * client accepts is one the pipeline will not dead-letter for its shape.
 */
import { randomUUID } from 'node:crypto';
import { jsonEventDecoder, validateCloudEvent } from '../processors/index.js';
import { checkEventValue, type UsageEvent } from '../schemas/index.js';
import { InvalidUsageEventError } from './client-errors.js';

/** What an application records; the client adds specversion, source and datacontenttype. */
export interface UsageRecordInput {
  /** CloudEvent `type`, e.g. "api.request": it selects the meters that count the event. */
  readonly type: string;
  /** Who used it (CloudEvent `subject`, e.g. a customer's subject); also the Kafka message key. */
  readonly subject: string;
  /** The usage data, a JSON object (meters read `valueProperty` and `groupBy` from it). Default `{}`. */
  readonly data?: Readonly<Record<string, unknown>>;
  /** Event time: a Date, epoch ms, or RFC 3339 text. Default: now. A Date or number is written as RFC 3339 UTC. */
  readonly time?: Date | number | string;
  /**
   * The event's identity within this source: the pipeline counts one event
   * per (source, id). Default: a random UUID. Pass your own (e.g. a request
   * id) when the application itself may record the same usage twice.
   */
  readonly id?: string;
}

/** The ingest rules an event is checked against (set them as in the pipeline's `ingest` config). */
export interface UsageEventRules {
  /** Events stamped more than this ahead of the clock are refused (`ingest.maxFutureSkew`). */
  readonly maxFutureSkewMs: number;
  /** Largest encoded event, in bytes (the pipeline's limit). */
  readonly maxEventBytes: number;
}

/** A checked event ready for the outbox: the message key and the exact value bytes sent. */
export interface EncodedUsageEvent {
  readonly event: UsageEvent;
  readonly key: string;
  readonly value: Buffer;
}

function eventTime(time: UsageRecordInput['time'], nowMs: number): unknown {
  if (time === undefined) return new Date(nowMs).toISOString();
  if (typeof time === 'string') return time;
  const ms = time instanceof Date ? time.getTime() : time;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new InvalidUsageEventError('invalid-time', `time ${String(time)} is not a valid instant; pass a Date, epoch milliseconds or RFC 3339 text`);
  }
  return new Date(ms).toISOString();
}

/**
 * Checks record value bytes exactly as the pipeline's ingest does: JSON
 * decoding, CloudEvents validation, and the future bound against `nowMs`.
 * @throws InvalidUsageEventError naming the field and the dead-letter reason
 */
export function checkUsageEventBytes(value: Buffer, nowMs: number, rules: UsageEventRules): UsageEvent {
  const decoded = jsonEventDecoder(rules.maxEventBytes).decode(value);
  if (decoded.ok === false) throw new InvalidUsageEventError(decoded.reason, decoded.message);
  if (decoded.ok === 'pending') throw new InvalidUsageEventError('invalid-encoding', 'the value is not JSON');
  const validated = validateCloudEvent(decoded.value, nowMs);
  if (!validated.ok) throw new InvalidUsageEventError(validated.failure.reason, validated.failure.message);
  const aheadMs = validated.event.timeMs - nowMs;
  if (aheadMs > rules.maxFutureSkewMs) {
    throw new InvalidUsageEventError(
      'future-time',
      `time ${validated.event.time} is ${aheadMs} ms ahead of this clock (${new Date(nowMs).toISOString()}); ` +
        `the pipeline accepts at most ${rules.maxFutureSkewMs} ms (ingest.maxFutureSkew) — check the clock or the time you pass`,
    );
  }
  return validated.event;
}

/**
 * Builds the CloudEvent for `input` from `source` and checks it.
 * @throws InvalidUsageEventError when the pipeline would dead-letter it
 */
export function buildUsageEvent(input: UsageRecordInput, source: string, nowMs: number, rules: UsageEventRules): EncodedUsageEvent {
  const cloudEvent = {
    specversion: '1.0',
    id: input.id ?? randomUUID(),
    source,
    type: input.type,
    subject: input.subject,
    time: eventTime(input.time, nowMs),
    datacontenttype: 'application/json',
    data: input.data ?? {},
  };
  // The pipeline's own event rules, before JSON.stringify recurses into data (a deep object would overflow the stack).
  const violation = checkEventValue(cloudEvent);
  if (violation !== undefined) throw new InvalidUsageEventError(violation.reason, violation.message);
  let text: string;
  try {
    text = JSON.stringify(cloudEvent);
  } catch (error) {
    throw new InvalidUsageEventError('invalid-field', `data cannot be written as JSON (${(error as Error).message}); pass plain JSON values`);
  }
  const value = Buffer.from(text, 'utf8');
  const event = checkUsageEventBytes(value, nowMs, rules);
  return { event, key: event.subject, value };
}
