/**
 * What flows from the ingest to dedupe and the meter aggregate: the
 * validated event plus its input offset (LATEST's tie-break, which a
 * repartition topic's own offsets would lose). On the repartition topic it is
 * an internal record (ingested-event-serde.ts), keyed by subject, with the
 * event time as the record timestamp.
 */
import type { Serde } from '../../schemas/serde.js';
import type { UsageEvent } from '../../schemas/records.js';
import type { IngestOutcome } from './classify-event.js';

export interface IngestedEvent {
  readonly event: UsageEvent;
  /** Offset of the event on the input topic. */
  readonly offset: number;
}


/**
 * An input record value before the ingest has looked at it. When the input is
 * already keyed by subject, the timestamp extractor classifies the event (it
 * is the only place that decides stream time) and leaves the outcome here for
 * the ingest processor, so each event is decoded once.
 */
export interface RawEventValue {
  readonly bytes: Buffer;
  outcome: IngestOutcome | undefined;
}

/** Never throws: decoding problems are the ingest processor's business (dead letters). */
export const rawEventValueSerde: Serde<RawEventValue> = {
  serialize: (value) => value.bytes,
  deserialize: (bytes) => ({ bytes, outcome: undefined }),
};
