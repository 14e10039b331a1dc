/**
 * The ingest processor: classifies each input record (see classify-event)
 * and routes it — dead letters to `deadLetterChild`, valid events keyed by
 * subject and stamped with their event time to `acceptedChild`, events that
 * match no meter nowhere (counted). Invalid events never reach dedupe.
 */
import { StreamRecord, type ProcessorContext, type ProcessorSupplier } from '../../topology/index.js';
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
      async process(record) {
        counters.eventsIn++;
        const raw = record.value;
        // The timestamp extractor may have classified it already (input keyed by subject).
        const outcome = raw?.outcome ?? classifyEvent(raw?.bytes ?? null, now(), settings);
        if (outcome.kind === 'dead-letter') {
          counters.deadLetters[outcome.failure.reason]++;
          const value = deadLetterRecord({ ...record, value: raw?.bytes ?? null }, outcome.failure);
          await context.forward(record.withValue(value), deadLetterChild);
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
        await context.forward(accepted, acceptedChild);
      },
    };
  };
}
