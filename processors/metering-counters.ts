/**
 * Plain counters the metering processors bump as records pass; the service
 * exposes them as metrics, `tally replay` prints them as progress. One object
 * may be shared by every task of a process (tasks run one at a time).
 */
import { deadLetterReasons, type DeadLetterReason } from '../schemas/records.js';

export interface MeteringCounters {
  /** Input records seen by the ingest. */
  eventsIn: number;
  /** Valid events that match at least one meter (forwarded to dedupe). */
  eventsAccepted: number;
  /** Valid events that match no meter: not errors, not forwarded. */
  eventsUnmatched: number;
  /** Dead letters by reason. */
  readonly deadLetters: Record<DeadLetterReason, number>;
  /** Copies of an already seen (source, id), dropped by dedupe. */
  duplicates: number;
  /** Late event records written (one per meter the event was late for). */
  lateEvents: number;
  /** Non-final meter records emitted (one per changed window per commit). */
  meterUpdates: number;
  /** Final meter records emitted (one per closed window). */
  meterFinals: number;
}

export function createMeteringCounters(): MeteringCounters {
  const deadLetters = Object.fromEntries(deadLetterReasons.map((reason) => [reason, 0])) as Record<DeadLetterReason, number>;
  return { eventsIn: 0, eventsAccepted: 0, eventsUnmatched: 0, deadLetters, duplicates: 0, lateEvents: 0, meterUpdates: 0, meterFinals: 0 };
}

/** Total dead letters over all reasons. */
export function totalDeadLetters(counters: MeteringCounters): number {
  let total = 0;
  for (const reason of deadLetterReasons) total += counters.deadLetters[reason];
  return total;
}
