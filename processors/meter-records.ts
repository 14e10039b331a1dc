/** Builds the records the meter aggregate writes: meter updates/finals and late events. */
import type { LateEventRecord, MeterRecord, UsageEvent } from '../schemas/records.js';
import type { MeterWindowValue } from './aggregations/aggregation.js';
import type { MeterPlan } from './meter-plan.js';
import { windowIso as iso } from './meter-windows.js';

export function meterRecord(
  plan: MeterPlan,
  subject: string,
  groupBy: Readonly<Record<string, string>>,
  windowStartMs: number,
  windowSizeMs: number,
  window: MeterWindowValue,
  final: boolean,
): MeterRecord {
  return {
    meter: plan.slug,
    subject,
    groupBy,
    windowStart: iso(windowStartMs),
    windowEnd: iso(windowStartMs + windowSizeMs),
    aggregation: plan.aggregationName,
    value: plan.aggregation.result(window.acc),
    count: window.count,
    final,
  };
}

export function lateEventRecord(
  plan: MeterPlan,
  event: UsageEvent,
  windowStartMs: number,
  windowSizeMs: number,
  allowedLatenessMs: number,
  closedAtMs: number,
): LateEventRecord {
  const windowEnd = iso(windowStartMs + windowSizeMs);
  return {
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
}
