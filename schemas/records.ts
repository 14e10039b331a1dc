/**
 * Record shapes on Tally's topics (DESIGN §1, §3). JSON field names are the
 * external contract; the Avro schemas in `schemas/avro/` mirror them.
 */

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
 * Value on `tally-dead-letter`. The original bytes travel base64-encoded.
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
  /** Original value bytes, base64; null for a tombstone. */
  readonly value: string | null;
  /** When the event could be decoded far enough to know them. */
  readonly eventId?: string;
  readonly eventSource?: string;
  /** For `invalid-value`: the meter whose value was bad; for `unrated`: the meter of the usage. */
  readonly meter?: string;
}

/** Value on `tally-late-events`: an event that arrived after its window closed. */
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
