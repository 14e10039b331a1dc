/**
 * Record shapes on Tally's topics (docs/service-topics.md, docs/metering.md, docs/rating.md). JSON field names are the
 * external contract; the Avro schemas in `schemas/avro/` mirror them.
 */
import { createHash } from 'node:crypto';

/** A CloudEvents 1.0 usage event after validation. */
export interface UsageEvent {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject: string;
  /** RFC 3339 as sent (or the ingestion time when absent), kept verbatim. */
  readonly time: string;
  /** `time` in epoch ms (sub-millisecond digits are kept in `time` only). */
  readonly timeMs: number;
  readonly data: Readonly<Record<string, unknown>>;
}

/** Why a record went to the dead-letter topic. Codes are stable; messages are for people. */
export const deadLetterReasons = [
  'invalid-encoding', // not UTF-8 / not JSON / not Avro wire format
  'unknown-schema', // Avro schema id the registry does not know
  'not-an-object', // JSON that is not an object
  'unsupported-specversion',
  'missing-field', // id, source, type or subject absent or empty
  'invalid-field', // a field of the wrong type (data not an object, id not a string, ...), or a string a later stage cannot store (see event-rules.ts)
  'invalid-time', // time is not RFC 3339
  'future-time', // time more than maxFutureSkew ahead of the wall clock
  'invalid-value', // valueProperty missing, null, NaN, ±Inf or not numeric for a meter that needs a number
  'too-large', // payload over the size limit
  'too-deep', // objects and arrays nested deeper than eventLimits.maxDepth
  'unrated', // metered usage of a subject no customer owns (or whose plan is unknown): not billed
  'processing-failed', // the runtime's backstop: processing this input record threw (see topology/internal/dead-letters.ts)
] as const;
export type DeadLetterReason = (typeof deadLetterReasons)[number];

/**
 * Bound on a dead letter or late-event record the metering and rating
 * processors write: its key and JSON value together, in bytes. Kafka's default
 * `max.message.bytes` is 1048588 (a record batch); this leaves room for the
 * batch framing and headers, so such a record fits any topic, default or
 * larger. A record that would be larger carries a truncated copy of the
 * original, marked, instead of the whole (`valueTruncated`, `eventTruncated`),
 * and is still written: never dropped, never a failed commit.
 */
export const maxAuditRecordBytes = 1_000_000;

/**
 * Value on `tally-dead-letter`. The original bytes travel base64-encoded;
 * when the record would exceed `maxAuditRecordBytes`, only their first bytes
 * do (`valueTruncated`, then the key's likewise: `keyTruncated`), with the
 * original's size and SHA-256, and the coordinates to fetch it from its topic.
 *
 * Reason `unrated` is usage, not an input record: a meter window's change
 * that no customer pays for. It has no single input record, so `topic` is the
 * meters topic and `key` the window's key there (`meter|subject|groupBy|windowStart`),
 * `partition` the subject's partition, `offset` "-1", `timestamp` the window's
 * last instant, `value` the meter delta as JSON, and `meter` the meter.
 *
 * Reason `processing-failed` comes from the runtime, not the ingest: an input
 * record (of any source of the topology, internal repartition topics
 * included) whose processing threw; `message` names the node that threw.
 */
export interface DeadLetterRecord {
  readonly reason: DeadLetterReason;
  readonly message: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** The input record's Kafka timestamp, ISO-8601 UTC. */
  readonly timestamp: string;
  /** Original key bytes, base64; null when there was none. */
  readonly key: string | null;
  /** Original value bytes, base64; null for a tombstone. Only the first bytes when `valueTruncated`. */
  readonly value: string | null;
  /** Present (true) only when `value` holds the first bytes of the original, not all of it. */
  readonly valueTruncated?: true;
  /** With `valueTruncated`: the original value's size, bytes. */
  readonly valueBytes?: number;
  /** With `valueTruncated`: SHA-256 of the original value bytes, lowercase hex. */
  readonly valueSha256?: string;
  /** Present (true) only when `key` holds the first bytes of the original key (a key too large even with the value cut). */
  readonly keyTruncated?: true;
  /** With `keyTruncated`: the original key's size, bytes. */
  readonly keyBytes?: number;
  /** With `keyTruncated`: SHA-256 of the original key bytes, lowercase hex. */
  readonly keySha256?: string;
  /** When the event could be decoded far enough to know them. */
  readonly eventId?: string;
  readonly eventSource?: string;
  /** For `invalid-value`: the meter whose value was bad; for `unrated`: the meter of the usage. */
  readonly meter?: string;
}

/**
 * Value on `tally-late-events`: an event that arrived after its window closed.
 * When the record would exceed `maxAuditRecordBytes`, `event` keeps every
 * attribute but its `data` is `{}`, and `eventTruncated`, `eventBytes` and
 * `eventSha256` describe the whole event (find it on the input topic by
 * `source` and `id`).
 */
export interface LateEventRecord {
  readonly reason: 'window-closed';
  readonly message: string;
  readonly meter: string;
  readonly subject: string;
  readonly windowStart: string;
  readonly windowEnd: string;
  /** Stream time (or the wall-clock close horizon) that closed the window, ISO-8601 UTC. */
  readonly closedAt: string;
  readonly event: UsageEvent;
  /** Present (true) only when `event.data` was left out (replaced by `{}`) to keep the record within `maxAuditRecordBytes`. */
  readonly eventTruncated?: true;
  /** With `eventTruncated`: size of the whole event as JSON (UTF-8), bytes, as the record would have carried it. */
  readonly eventBytes?: number;
  /** With `eventTruncated`: SHA-256 of that JSON text, lowercase hex. */
  readonly eventSha256?: string;
}

/** Value on `tally-meters` (compacted). Key: `meter|subject|groupBy|windowStart`. */
export interface MeterRecord {
  readonly meter: string;
  readonly subject: string;
  /** Group-by name → value; a missing path is the empty string. */
  readonly groupBy: Readonly<Record<string, string>>;
  /** ISO-8601 UTC, e.g. `2024-01-01T00:00:00.000Z`. */
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly aggregation: string;
  /** Exact decimal string, e.g. "100" or "0.3". */
  readonly value: string;
  /** Events aggregated into this window. */
  readonly count: number;
  /** True on the one record emitted when the window closes. */
  readonly final: boolean;
}

const sha256Hex = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');
const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8');
/** Whole bytes whose base64 fits in `chars` characters (base64 needs no JSON escaping). */
const base64Fit = (chars: number): number => Math.floor(chars / 4) * 3;

/**
 * `record` as it may be written: unchanged when `besideBytes` (what the Kafka
 * record carries besides its value: its key and headers) plus the JSON value
 * fit `limitBytes`. Otherwise the original value (`original.value`) is cut to
 * the first bytes that fit, marked with `valueTruncated`, `valueBytes` and
 * `valueSha256`; if even an empty value does not fit, the key is cut the same
 * way (`keyTruncated`, …). What cannot be cut (the dead letter's own Kafka
 * key, its message) is left: the record is still returned, never dropped.
 */
export function fitDeadLetter(
  record: DeadLetterRecord,
  original: { readonly key: Buffer | null; readonly value: Buffer | null },
  besideBytes: number,
  limitBytes: number = maxAuditRecordBytes,
): DeadLetterRecord {
  const room = (candidate: DeadLetterRecord): number => limitBytes - besideBytes - jsonBytes(candidate);
  if (room(record) >= 0) return record;
  let fitted = record;
  if (original.value !== null) {
    fitted = { ...fitted, value: '', valueTruncated: true, valueBytes: original.value.length, valueSha256: sha256Hex(original.value) };
    const left = room(fitted);
    if (left >= 0) return { ...fitted, value: original.value.subarray(0, base64Fit(left)).toString('base64') };
  }
  if (original.key === null) return fitted;
  fitted = { ...fitted, key: '', keyTruncated: true, keyBytes: original.key.length, keySha256: sha256Hex(original.key) };
  const left = room(fitted);
  return left >= 0 ? { ...fitted, key: original.key.subarray(0, base64Fit(left)).toString('base64') } : fitted;
}

/**
 * `record` as it may be written: unchanged when `keyBytes` plus its JSON
 * value fit `limitBytes`; otherwise with `event.data` replaced by `{}` and
 * `eventTruncated`, `eventBytes` and `eventSha256` describing the whole event
 * as JSON. Every other field stays (they are bounded by the event rules).
 */
export function fitLateEventRecord(record: LateEventRecord, keyBytes: number, limitBytes: number = maxAuditRecordBytes): LateEventRecord {
  if (keyBytes + jsonBytes(record) <= limitBytes) return record;
  const eventJson = JSON.stringify(record.event);
  return { ...record, event: { ...record.event, data: {} }, eventTruncated: true, eventBytes: Buffer.byteLength(eventJson, 'utf8'), eventSha256: sha256Hex(eventJson) };
}
