/**
 * Builds the `tally-dead-letter` value for a record the ingest refused: the
 * whole original in base64 when the record fits `maxAuditRecordBytes`, else
 * its first bytes, marked, with the original's size and SHA-256.
 */
import { fitDeadLetter, type DeadLetterRecord } from '../../schemas/records.js';
import type { EventFailure } from './decode-event.js';

/** Where the refused record came from, and its original bytes. */
export interface RefusedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** The input record's Kafka timestamp, epoch ms. */
  readonly timestampMs: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Headers the dead letter will carry (the input's), counted against the bound. */
  readonly headers?: Readonly<Record<string, string>>;
}

function headerBytes(headers: Readonly<Record<string, string>> | undefined): number {
  let bytes = 0;
  for (const name in headers) bytes += Buffer.byteLength(name) + Buffer.byteLength(headers[name] as string);
  return bytes;
}

/** The dead letter of `record`, keyed (on the topic) by the input's key. */
export function deadLetterRecord(record: RefusedRecord, failure: EventFailure): DeadLetterRecord {
  const full: DeadLetterRecord = {
    reason: failure.reason,
    message: failure.message,
    topic: record.topic,
    partition: record.partition,
    offset: String(record.offset),
    timestamp: new Date(record.timestampMs).toISOString(),
    key: record.key === null ? null : record.key.toString('base64'),
    value: record.value === null ? null : record.value.toString('base64'),
    ...(failure.eventId === undefined ? {} : { eventId: failure.eventId }),
    ...(failure.eventSource === undefined ? {} : { eventSource: failure.eventSource }),
    ...(failure.meter === undefined ? {} : { meter: failure.meter }),
  };
  return fitDeadLetter(full, record, (record.key?.length ?? 0) + headerBytes(record.headers));
}
