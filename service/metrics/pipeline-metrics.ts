/**
 * The metering and rating processors' plain counters as Prometheus counters,
 * read at scrape time. Every dead-letter reason and billing status is
 * present from the first scrape (at 0), so dashboards show zero, not "no data".
 */
import type { Registry } from 'prom-client';
import type { MeteringCounters, RatingCounters } from '../../processors/index.js';
import { deadLetterReasons } from '../../schemas/index.js';
import { registerReadingCounter, type Reading } from './reading-counter.js';

function single(total: number): Iterable<Reading<never>> {
  return [[{}, total]];
}

/**
 * @param processingFailures the runtime's count of records dead-lettered with
 *   `processing-failed` (its backstop), for this application
 */
export function registerMeteringMetrics(registry: Registry, counters: MeteringCounters, processingFailures: () => number): void {
  const plain: readonly [name: string, help: string, read: () => number][] = [
    ['tally_events_received_total', 'Records read from the usage events topic by the ingest.', () => counters.eventsIn],
    ['tally_events_accepted_total', 'Valid events that match at least one meter (sent on to dedupe).', () => counters.eventsAccepted],
    ['tally_events_unmatched_total', 'Valid events that match no meter: not errors, not metered.', () => counters.eventsUnmatched],
    ['tally_duplicates_total', 'Copies of an already seen (source, id) dropped by dedupe.', () => counters.duplicates],
    ['tally_late_events_total', 'Records written to the late-events topic (one per meter the event came too late for).', () => counters.lateEvents],
    ['tally_unrated_usage_total', 'Meter changes no customer pays for (dead letters with reason "unrated").', () => counters.deadLetters.unrated],
    ['tally_processing_failures_total', 'Input records whose processing threw, dead-lettered by the runtime (reason "processing-failed") instead of stopping it.', processingFailures],
  ];
  for (const [name, help, read] of plain) registerReadingCounter(registry, { name, help, read: () => single(read()) });
  registerReadingCounter(registry, {
    name: 'tally_dead_letters_total',
    help: 'Records written to the dead-letter topic, by reason code.',
    labelNames: ['reason'],
    // processing-failed dead letters are the runtime's, not the processors'.
    read: () => deadLetterReasons.map((reason) => [{ reason }, reason === 'processing-failed' ? processingFailures() : counters.deadLetters[reason]] as const),
  });
  registerReadingCounter(registry, {
    name: 'tally_meter_records_total',
    help: 'Meter records emitted to the meters topic: updates of open windows (provisional) and closed windows (final).',
    labelNames: ['status'],
    read: () => [
      [{ status: 'provisional' }, counters.meterUpdates],
      [{ status: 'final' }, counters.meterFinals],
    ],
  });
}

export function registerRatingMetrics(registry: Registry, counters: RatingCounters): void {
  // The rating counters tell emitted records, details turned final and corrections
  // (re-emitted, still final); provisional is what remains of the emitted.
  const finals = () => counters.billingFinals + counters.billingCorrections;
  registerReadingCounter(registry, {
    name: 'tally_billing_details_total',
    help: 'Billing detail records emitted to the billing topic, by status.',
    labelNames: ['status'],
    read: () => [
      [{ status: 'provisional' }, Math.max(0, counters.billingRecords - finals())],
      [{ status: 'final' }, Math.min(finals(), counters.billingRecords)],
    ],
  });
  const plain: readonly [name: string, help: string, read: () => number][] = [
    ['tally_billing_corrections_total', 'Usage applied to a period already final: its final detail re-emitted with the next revision.', () => counters.billingCorrections],
    ['tally_invoice_records_total', 'Invoice records emitted to the invoices topic (draft and final, one per revision).', () => counters.invoiceRecords],
    ['tally_alerts_total', 'Usage alerts emitted to the alerts topic: each threshold once per entitlement and billing period.', () => counters.alertRecords],
    ['tally_entitlement_records_total', 'Entitlement records emitted to the entitlements topic (one per revision).', () => counters.entitlementRecords],
    ['tally_usage_joined_total', 'Meter changes joined to their customer and sent to rating.', () => counters.usageJoined],
    ['tally_usage_not_charged_total', "Meter changes the customer's plan does not charge: not billed, not an error.", () => counters.usageNotCharged],
    ['tally_customers_refused_total', 'Records on the customers topic refused (dead-lettered); the previous row stays.', () => counters.customersRefused],
    ['tally_customer_terms_changes_total', 'Rows on the customers topic whose terms changed, forwarded to rating and entitlements (one per subject row).', () => counters.customerTermsChanges],
    ['tally_billing_details_revised_total', "Open billing details re-rated because their customer's terms changed on the customers topic.", () => counters.detailsRevised],
  ];
  for (const [name, help, read] of plain) registerReadingCounter(registry, { name, help, read: () => single(read()) });
}
