/** Builds the `tally-dead-letter` value for a record the ingest refused. */
import type { DeadLetterRecord } from '../../schemas/records.js';
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
}

export function deadLetterRecord(record: RefusedRecord, failure: EventFailure): DeadLetterRecord {
  return {
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
}
