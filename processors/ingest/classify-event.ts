/**
 * The whole ingest decision for one record value, as a pure function of the
 * bytes and the wall clock: decode (with the shared event rules of
 * schemas/event-rules.ts), validate, the future bound, and every matching
 * meter's value and group-by values. Nothing is counted partially: an event with a bad
 * value for any of its meters is dead-lettered once (with that meter named)
 * and counted for none.
 */
import { eventLimits, utf8Bytes } from '../../schemas/event-rules.js';
import type { UsageEvent } from '../../schemas/records.js';
import { readGroupByValue, readMeterValue, type MeterPlan, type MeterPlans } from '../meter-plan.js';
import { validateCloudEvent, type EventFailure } from './decode-event.js';
import type { EventDecoder } from './event-decoder.js';

export interface IngestSettings {
  readonly decoder: EventDecoder;
  /** Events stamped more than this ahead of the wall clock are dead-lettered (`future-time`). */
  readonly maxFutureSkewMs: number;
  readonly plans: MeterPlans;
}

export type IngestOutcome =
  | { readonly kind: 'valid'; readonly event: UsageEvent }
  /** Valid, but no meter reads its type: counted in a metric, not forwarded. */
  | { readonly kind: 'unmatched'; readonly event: UsageEvent }
  | { readonly kind: 'dead-letter'; readonly failure: EventFailure }
  /**
   * No verdict yet: the decoder needs a writer schema it has not cached
   * (`EventDecoder.prepare` fetches it). Never forwarded, never dead-lettered.
   */
  | { readonly kind: 'pending'; readonly schemaId: number };

/**
 * @param wallClockMs the wall clock: the ingestion time of events without
 *   `time`, and the reference of the future bound
 */
export function classifyEvent(value: Buffer | null, wallClockMs: number, settings: IngestSettings): IngestOutcome {
  const decoded = settings.decoder.decode(value);
  if (decoded.ok === 'pending') return { kind: 'pending', schemaId: decoded.schemaId };
  if (!decoded.ok) return { kind: 'dead-letter', failure: { reason: decoded.reason, message: decoded.message } };
  const validated = validateCloudEvent(decoded.value, wallClockMs);
  if (!validated.ok) return { kind: 'dead-letter', failure: validated.failure };
  const { event } = validated;
  const aheadMs = event.timeMs - wallClockMs;
  if (aheadMs > settings.maxFutureSkewMs) {
    const message =
      `time ${event.time} is ${aheadMs} ms ahead of the wall clock (${new Date(wallClockMs).toISOString()}); ` +
      `at most ${settings.maxFutureSkewMs} ms (ingest.maxFutureSkew) is accepted — check the producer's clock`;
    return { kind: 'dead-letter', failure: { reason: 'future-time', message, eventId: event.id, eventSource: event.source } };
  }
  const plans = settings.plans.byEventType.get(event.type);
  if (plans === undefined) return { kind: 'unmatched', event };
  for (const plan of plans) {
    const read = readMeterValue(plan, event.data);
    const problem = read.ok ? oversizedText(plan, read.value, event.data) : read.problem;
    if (problem !== undefined) {
      const message = `meter ${plan.slug} (${plan.aggregationName}): ${problem}; the event is counted for no meter`;
      return { kind: 'dead-letter', failure: { reason: 'invalid-value', message, eventId: event.id, eventSource: event.source, meter: plan.slug } };
    }
  }
  return { kind: 'valid', event };
}

/**
 * Group-by values become parts of store and record keys, UNIQUE_COUNT values
 * are kept in the window's stored value: each is bounded like an attribute.
 */
function oversizedText(plan: MeterPlan, value: string | undefined, data: UsageEvent['data']): string | undefined {
  const limit = eventLimits.maxTextBytes;
  if (value !== undefined && plan.aggregationName === 'UNIQUE_COUNT' && utf8Bytes(value) > limit) {
    return `${plan.valuePath?.path ?? 'the value'} is ${utf8Bytes(value)} bytes in UTF-8; UNIQUE_COUNT values may be at most ${limit} bytes — send a shorter identifier (e.g. a hash)`;
  }
  if (plan.groupBy.length === 0) return undefined;
  for (const [name, path] of plan.groupBy) {
    const bytes = utf8Bytes(readGroupByValue(path, data));
    if (bytes > limit) return `group-by ${name} (${path.path}) is ${bytes} bytes in UTF-8; group-by values may be at most ${limit} bytes, as they become parts of keys — group by a shorter value`;
  }
  return undefined;
}
