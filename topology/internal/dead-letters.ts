/**
 * The runtime's backstop for records whose processing throws: such a record
 * goes to its source's dead-letter topic (reason `processing-failed`) instead
 * of stopping the task — the counterpart of Kafka Streams'
 * ProcessingExceptionHandler set to CONTINUE. Without it, one poison pill
 * fails the task on every restart. (A record that cannot be deserialized is
 * dead-lettered by the task as its original bytes with the error headers.)
 *
 * The value is the dead-letter JSON of schemas/records.ts (`DeadLetterRecord`:
 * reason, message, coordinates, original key and value in base64), the same
 * shape the ingest writes; the original headers travel on, plus the error
 * headers below. Only a failure of the record is dead-lettered: an outage
 * (a retriable error), a state store that cannot be read or written, or a
 * topology that is wired wrong still stops the task.
 */
import { StateStoreError, TallyError, TopologyError, type DeadLetterRecord } from '../../schemas/index.js';
import type { Headers } from '../record.js';
import type { RawRecord } from './stream-task.js';

/** Header names put on dead-lettered records by the runtime. */
export const errorHeaders = {
  code: 'tally.error.code',
  message: 'tally.error.message',
  topic: 'tally.error.topic',
  partition: 'tally.error.partition',
  offset: 'tally.error.offset',
  /** The node that failed (processing failures only). */
  node: 'tally.error.node',
} as const;

/** A record as read (see RawRecord), with what failed on it. */
export interface RecordFailure extends RawRecord {
  readonly message: string;
  /** Physical topic the record was read from. */
  readonly topic: string;
  readonly node: string | undefined;
}

/** Longest error message kept in a dead letter, characters (a message may quote a whole key). */
const maxMessageChars = 2_000;

function iso(timestampMs: number): string {
  return Number.isFinite(timestampMs) && Math.abs(timestampMs) <= 8.64e15 ? new Date(timestampMs).toISOString() : new Date(0).toISOString();
}

/** The dead-letter value (JSON bytes) and headers for a failed record. */
export function deadLetterOf(failure: RecordFailure): { value: Buffer; headers: Headers } {
  const cut = failure.message.length > maxMessageChars ? `${failure.message.slice(0, maxMessageChars)}…` : failure.message;
  // An error may quote bad text, and the cut may split a pair: the dead letter itself must be well-formed.
  const message = (cut as unknown as { toWellFormed(): string }).toWellFormed();
  const record: DeadLetterRecord = {
    reason: 'processing-failed',
    message,
    topic: failure.topic,
    partition: failure.partition,
    offset: String(failure.offset),
    timestamp: iso(failure.timestampMs),
    key: failure.key === null ? null : failure.key.toString('base64'),
    value: failure.value === null ? null : failure.value.toString('base64'),
  };
  const headers: Headers = {
    ...failure.headers,
    [errorHeaders.code]: 'processing-failed',
    [errorHeaders.message]: message,
    [errorHeaders.topic]: failure.topic,
    [errorHeaders.partition]: String(failure.partition),
    [errorHeaders.offset]: String(failure.offset),
    ...(failure.node === undefined ? {} : { [errorHeaders.node]: failure.node }),
  };
  return { value: Buffer.from(JSON.stringify(record), 'utf8'), headers };
}

/** The errors a record's cause chain holds, outermost first (bounded: a cause chain may loop). */
function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let at: unknown = error; at !== undefined && at !== null && chain.length < 16 && !chain.includes(at); at = (at as { cause?: unknown }).cause) chain.push(at);
  return chain;
}

/**
 * True when `error` is the record's own failure (processor code, a key or
 * value that cannot be encoded), false when the runtime itself failed: a
 * retriable error (an outage: the record is retried, never dead-lettered), a
 * state store error or a LevelDB error (I/O), a topology error (a wiring bug
 * that would fail every record).
 */
export function isRecordFailure(error: unknown): boolean {
  for (const at of causes(error)) {
    if (at instanceof TallyError && at.retriable) return false;
    if (at instanceof StateStoreError || at instanceof TopologyError) return false;
    const code = (at as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && code.startsWith('LEVEL_')) return false; // classic-level's I/O and state errors
  }
  return true;
}

/** The message of the error that failed the record, without the runtime's wrapping. */
export function failureMessage(error: unknown): string {
  const chain = causes(error);
  const root = chain.find((at) => !(at instanceof TallyError && at.code === 'processing-failed' && at.cause !== undefined)) ?? error;
  return root instanceof Error ? root.message : String(root);
}

const failureCounts = new Map<string, number>();

/** Records of `applicationId` dead-lettered with `processing-failed` in this process. */
export function processingFailureCount(applicationId: string): number {
  return failureCounts.get(applicationId) ?? 0;
}

/** Counts one processing failure and logs it once, at warn. */
export function noteProcessingFailure(applicationId: string, message: string): void {
  failureCounts.set(applicationId, processingFailureCount(applicationId) + 1);
  console.warn(`tally ${applicationId}: ${message}`);
}
