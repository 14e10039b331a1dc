/**
 * Dedupe: the first copy of an event identity `(source, id)` wins; later
 * copies are counted and dropped. Only valid events reach it (the ingest
 * dead-letters the rest first), so a refused event never shadows a good
 * resend, and it runs before the meter aggregate, so a late duplicate is a
 * duplicate.
 *
 * The `dedupe` window store keys identities as JSON `[source, id]` (no
 * separator can be ambiguous) and files them under a coarse bucket of their
 * event time, `dedupeBucketMs = ceil(dedupeRetention / 2)`, one bucket per
 * segment. Retention (by bucket start) is dedupeRetention + one bucket, so an
 * identity is remembered for at least dedupeRetention of event time past its
 * own. A copy may carry another time (a resend without `time` gets a new
 * ingestion time), so a lookup probes every live bucket by point reads — at
 * most four — instead of assuming the copy's bucket; nearly all of them find
 * nothing, and the store's key filter answers those without LevelDB
 * (`keyFilter`). Identities are written
 * once, so the store logs them in batch records (`logBatches`), a few per
 * commit instead of one per event.
 */
import type { InternalRecordFormat } from '../schemas/config-types.js';
import { integerCodec, internalRecordSerde } from '../schemas/index.js';
import type { StoreSpec, WindowStore } from '../state/index.js';
import type { ProcessorContext, ProcessorSupplier } from '../topology/index.js';
import type { IngestedEvent } from './ingest/ingested-event.js';
import type { MeteringCounters } from './metering-counters.js';

export const dedupeStoreName = 'dedupe';

/** Value: the event time (epoch ms) of the first copy, for inspection. */
export type DedupeEntry = number;

export function dedupeBucketMs(dedupeRetentionMs: number): number {
  return Math.max(1, Math.ceil(dedupeRetentionMs / 2));
}

const dedupeEntryCodec = integerCodec('dedupe entry');

export function dedupeStoreSpec(dedupeRetentionMs: number, format: InternalRecordFormat = 'binary'): StoreSpec<DedupeEntry> {
  const bucketMs = dedupeBucketMs(dedupeRetentionMs);
  return {
    name: dedupeStoreName,
    kind: 'window',
    persistent: true,
    caching: false,
    logging: true,
    valueSerde: internalRecordSerde(dedupeEntryCodec, format),
    retentionMs: dedupeRetentionMs + bucketMs,
    segmentIntervalMs: bucketMs,
    windowSizeMs: bucketMs,
    // An identity is written once: its changelog goes in batches, not one record per event.
    logBatches: true,
    // Most lookups find nothing (a new identity, probed in every live bucket): a filter answers them.
    keyFilter: true,
  };
}

/** The store key of an event identity. */
export function dedupeKey(source: string, id: string): string {
  return JSON.stringify([source, id]);
}

export interface DedupeOptions {
  readonly dedupeRetentionMs: number;
  readonly counters: MeteringCounters;
}

export function dedupeProcessor(options: DedupeOptions): ProcessorSupplier<string, IngestedEvent, string, IngestedEvent> {
  const bucketMs = dedupeBucketMs(options.dedupeRetentionMs);
  const retentionMs = options.dedupeRetentionMs + bucketMs;
  const bucketOf = (timeMs: number): number => timeMs - (timeMs % bucketMs);
  return () => {
    let context: ProcessorContext<string, IngestedEvent>;
    let store: WindowStore<DedupeEntry> & { readonly observedTimeMs?: number };

    function seenBefore(key: string, ownBucketMs: number): boolean {
      // Every bucket ever written is <= the store's observed time and <= this task's stream time.
      const newestMs = bucketOf(Math.max(ownBucketMs, context.streamTimeMs, store.observedTimeMs ?? -1));
      for (let candidateMs = newestMs; candidateMs > newestMs - retentionMs && candidateMs >= 0; candidateMs -= bucketMs) {
        if (candidateMs !== ownBucketMs && store.fetch(key, candidateMs) !== undefined) return true;
      }
      // The event's own bucket last: the put that follows a miss writes the window read last.
      return store.fetch(key, ownBucketMs) !== undefined;
    }

    return {
      init(ctx) {
        context = ctx;
        store = ctx.getWindowStore<DedupeEntry>(dedupeStoreName);
      },
      process(record) {
        const { event } = record.value;
        const key = dedupeKey(event.source, event.id);
        const ownBucketMs = bucketOf(event.timeMs);
        if (seenBefore(key, ownBucketMs)) {
          options.counters.duplicates++;
          return;
        }
        store.put(key, ownBucketMs, event.timeMs, record.timestampMs);
        context.forward(record);
      },
    };
  };
}
