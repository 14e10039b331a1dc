/** Builds the records the meter aggregate writes: meter updates/finals and late events. */
import { fitLateEventRecord, type LateEventRecord, type UsageEvent } from '../schemas/records.js';
import type { MeterWindowValue } from './aggregations/aggregation.js';
import { meterRecordKey } from './meter-keys.js';
import { readGroupBy, type MeterPlan } from './meter-plan.js';
import { windowIso as iso } from './meter-windows.js';

/**
 * The JSON text of the `MeterRecord` of one window, built from its store key
 * (`meterStoreKey`: subject, NUL, canonical group-by JSON) without parsing
 * the group-by or building the object: byte for byte what
 * `JSON.stringify` of the `MeterRecord` object gives (a canonical group-by
 * is already `JSON.stringify` of its object), at less than half the cost.
 */
export function meterRecordJson(plan: MeterPlan, storeKey: string, windowStartMs: number, windowSizeMs: number, window: MeterWindowValue, final: boolean): string {
  const separator = storeKey.indexOf('\u0000');
  // Slugs are [A-Za-z0-9_-] and aggregation names upper-case words: nothing to escape.
  return (
    `{"meter":"${plan.slug}","subject":${JSON.stringify(storeKey.slice(0, separator))},"groupBy":${storeKey.slice(separator + 1)},` +
    `"windowStart":"${iso(windowStartMs)}","windowEnd":"${iso(windowStartMs + windowSizeMs)}","aggregation":"${plan.aggregationName}",` +
    `"value":${JSON.stringify(plan.aggregation.result(window.acc))},"count":${window.count},"final":${final}}`
  );
}

/**
 * The late-event record of `event` for one meter, keyed (on the topic) like
 * the window. It carries the whole event unless the record would exceed
 * `maxAuditRecordBytes`; then `event.data` is left out and marked
 * (`eventTruncated`, see `fitLateEventRecord`).
 */
export function lateEventRecord(
  plan: MeterPlan,
  event: UsageEvent,
  windowStartMs: number,
  windowSizeMs: number,
  allowedLatenessMs: number,
  closedAtMs: number,
): LateEventRecord {
  const windowEnd = iso(windowStartMs + windowSizeMs);
  const record: LateEventRecord = {
    reason: 'window-closed',
    message:
      `event ${event.id} from ${event.source} at ${event.time} belongs to window [${iso(windowStartMs)}, ${windowEnd}) of meter ${plan.slug}, ` +
      `which closed at ${iso(windowStartMs + windowSizeMs + allowedLatenessMs)} (end + allowedLateness ${allowedLatenessMs} ms); it was not counted`,
    meter: plan.slug,
    subject: event.subject,
    windowStart: iso(windowStartMs),
    windowEnd,
    closedAt: iso(closedAtMs),
    event,
  };
  const key = meterRecordKey(plan.slug, event.subject, readGroupBy(plan, event.data), windowStartMs);
  return fitLateEventRecord(record, Buffer.byteLength(key, 'utf8'));
}
