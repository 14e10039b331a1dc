/**
 * V8 heap settings for a process that streams records, applied when a
 * runtime (the Kafka app, the test driver) is created.
 *
 * Allocation-site pretenuring is off. V8 watches each allocation site and,
 * when enough of its objects survive young collections, allocates that
 * site's objects in the old generation from then on. Node makes every
 * Buffer of the process at a few shared sites (a view's `subarray`, a
 * pool slice), and some Buffers of a streaming task do live long (store
 * keys, cached values), so those sites got pretenured: then every fetched
 * record's key and value view, and every small Buffer a record makes, was
 * born old, died old and waited for a mark-compact, and old objects pointing
 * at young ones made every scavenge longer. Without it they die young.
 * Measured in docs/performance.md ("Buffers born old"): promoted bytes per
 * event 1.35 KB → 0.57 KB, main-thread GC a quarter less, 10–15 % more
 * events/s on the metering benchmark.
 */
import { setFlagsFromString } from 'node:v8';

let tuned = false;

/** Idempotent; process-wide (V8 flags belong to the process). */
export function tuneHeapForStreaming(): void {
  if (tuned) return;
  tuned = true;
  // Read by the heap at every GC, so setting it after start-up takes effect from the next one.
  setFlagsFromString('--no-allocation-site-pretenuring');
}
