/**
 * The ingest processor: classifies each input record (see classify-event)
 * and routes it — dead letters to `deadLetterChild`, valid events keyed by
 * subject and stamped with their event time to `acceptedChild`, events that
 * match no meter nowhere (counted). Invalid events never reach dedupe.
 *
 * A record whose decoding needs a writer schema that is not cached is never
 * guessed at: the source's `prepare` (the decoder's) fetches the schemas a
 * whole batch needs before the batch is processed. If the registry stays
 * down, it rejects with a retriable error and the batch is processed again
 * later — never dropped, never dead-lettered for the registry's sake. A
 * record still pending here (its schema evicted in between) fails the same
 * retriable way, before anything of it is forwarded.
 */
import { StreamRecord, type ProcessorContext, type ProcessorSupplier } from '../../topology/index.js';
import { TallyError } from '../../schemas/errors.js';
import type { DeadLetterRecord } from '../../schemas/records.js';
import type { MeteringCounters } from '../metering-counters.js';
import { classifyEvent, type IngestSettings } from './classify-event.js';
import { deadLetterRecord } from './dead-letter.js';
import type { IngestedEvent, RawEventValue } from './ingested-event.js';

export interface IngestProcessorOptions {
  readonly settings: IngestSettings;
  /** The wall clock for ingestion time and the future bound; undefined: the task's wall clock. */
  readonly wallClockMs: (() => number) | undefined;
  readonly deadLetterChild: string;
  readonly acceptedChild: string;
  readonly counters: MeteringCounters;
}

export function ingestProcessor(
  options: IngestProcessorOptions,
): ProcessorSupplier<Buffer | null, RawEventValue | null, Buffer | null | string, DeadLetterRecord | IngestedEvent> {
  const { settings, deadLetterChild, acceptedChild, counters } = options;
  return () => {
    let context: ProcessorContext<Buffer | null | string, DeadLetterRecord | IngestedEvent>;
    let now: () => number;
    return {
      init(ctx) {
        context = ctx;
        now = options.wallClockMs ?? (() => ctx.wallClockMs);
      },
      process(record) {
        const raw = record.value;
        const bytes = raw?.bytes ?? null;
        // The timestamp extractor may have classified it already (input keyed by subject).
        let outcome = raw?.outcome;
        if (outcome === undefined || outcome.kind === 'pending') outcome = classifyEvent(bytes, now(), settings);
        if (outcome.kind === 'pending') {
          throw new TallyError('schema-unresolved', `the writer schema ${outcome.schemaId} of ${record.topic}-${record.partition}@${record.offset} is still not cached after fetching it; the record is retried`, {
            retriable: true,
            coordinates: { topic: record.topic, partition: record.partition, offset: String(record.offset), node: context.nodeName },
          });
        }
        counters.eventsIn++; // here, not on entry: a record retried after a registry outage counts once
        if (outcome.kind === 'dead-letter') {
          counters.deadLetters[outcome.failure.reason]++;
          const value = deadLetterRecord({ ...record, value: bytes }, outcome.failure);
          context.forward(record.withValue(value), deadLetterChild);
          return;
        }
        if (outcome.kind === 'unmatched') {
          counters.eventsUnmatched++;
          return;
        }
        counters.eventsAccepted++;
        const { event } = outcome;
        const accepted = new StreamRecord<string, IngestedEvent>({
          key: event.subject,
          value: { event, offset: record.offset },
          timestampMs: event.timeMs,
          headers: record.headers,
          topic: record.topic,
          partition: record.partition,
          offset: record.offset,
        });
        context.forward(accepted, acceptedChild);
      },
    };
  };
}
