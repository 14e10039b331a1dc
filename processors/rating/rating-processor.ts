/**
 * Rating: applies each customer's usage (deltas keyed by customer) to the
 * details of its billing period — one per (customer, charge, period) in
 * `rating-details` — re-rates the cumulative usage with the charge's model,
 * and emits the detail to `billingChild` when the store's cache flushes.
 *
 * - Period: the one that holds the delta's window start in the customer's
 *   zone (`billingPeriodAt`). For a customer with `plan`, its plan and
 *   currency are recorded with its first usage (`rating-periods`) and kept
 *   for the whole period: a plan change applies from the next period.
 * - Segment: for a customer with `subscriptions`, the part of the period
 *   the subscription holding the window start covers (see subscriptions.ts);
 *   a detail belongs to one segment, rated from zero on its own plan, with
 *   the per_unit flat fee prorated by the segment's share of the period.
 * - Filters: a charge with a `filter` rates only the deltas whose group-by
 *   values match it (charge-filter.ts).
 * - Invoices: every detail written goes on its period's invoice
 *   (invoice-ledger.ts), emitted like details, at the flush.
 * - Revisions: a detail's revision goes up by exactly one per emitted change.
 *   Changes between two flushes share one revision (they are emitted once,
 *   coalesced by the cache); a delta that changes nothing emits nothing.
 * - Status: `provisional` until stream time — or the wall clock, for an idle
 *   partition — reaches periodEnd + allowedLateness (cancelledAt +
 *   allowedLateness when the customer was cancelled inside the period); then
 *   `final` (one more revision). The bound is kept in `rating-close-state`.
 * - Usage for a period already final cannot come from a closed meter window,
 *   but a delta can still arrive after the bound moved (upstream partitions
 *   at different stream times, a delta in flight when the wall clock closed
 *   the period). It is never dropped: the final detail is re-rated and
 *   emitted again, still final, with the next revision, and counted
 *   (`billingCorrections`).
 * - A charge with no usage in a period has no detail (not even a flat fee).
 * - Terms changes: a customer row changed on the customers topic re-rates the
 *   customer's open details at once (`reviseOpenDetails`): a segment's end,
 *   its prorated fee and its close time follow the new subscriptions and
 *   cancellation, even when no usage follows the change.
 */
import type { BillingDetailRecord } from '../../schemas/billing-detail.js';
import type { InvoiceRecord } from '../../schemas/invoice.js';
import type { DeadLetterRecord } from '../../schemas/records.js';
import type { AggregationName, ChargeConfig } from '../../schemas/config-types.js';
import { currencyMinorUnits } from '../../schemas/currencies.js';
import type { CacheFlushListener, KeyValueStore } from '../../state/index.js';
import { StreamRecord, type ProcessorContext, type ProcessorSupplier } from '../../topology/index.js';
import { emitOnFlush } from '../cache-flushes.js';
import type { MeteringCounters } from '../metering-counters.js';
import { billingDetailRecord, detailKey, sameDetailContent, segmentOfDetail, withBillingPeriod } from './billing-details.js';
import { billingPeriodAt, type BillingPeriod } from './billing-period.js';
import { matchesFilter } from './charge-filter.js';
import { applyUsageChange, initialChargeUsage, modelQuantity, usageQuantity, type ChargeUsage } from './charge-usage.js';
import { planAtPeriodStart } from './customers-table.js';
import { FlushRevisions } from './flush-revisions.js';
import { InvoiceLedger, type InvoiceState } from './invoice-ledger.js';
import { intervalIndexAt, rateCharge } from './models/index.js';
import type { RatingCounters } from './rating-counters.js';
import type { RatingPlans } from './rating-plans.js';
import { OpenDetailIndex } from './open-details.js';
import {
  loadRatingCloseState,
  openDetailKey,
  periodTermsKey,
  ratingStoreNames,
  saveRatingCloseState,
  type DetailState,
  type PeriodTerms,
  type RatingCloseState,
} from './rating-stores.js';
import { resegment, segmentCloseMs, segmentOf, subscriptionAt, wholePeriodSegment, type BillingSegment } from './subscriptions.js';
import { isTermsChange, type CustomerTerms, type CustomerUsage, type UsageByCustomer } from './usage-by-customer.js';
import { unratedDeadLetter } from './usage-join.js';

/** How often (ms) the wall-clock punctuator finalizes periods an idle partition left open. */
export const ratingWallClockCloseIntervalMs = 1_000;

/**
 * The finalization bound is written when details turn final, else at most once
 * per this step (ms), so an idle task does not log a changelog record every
 * second. After a restart the bound may be up to one step behind until the
 * next punctuation moves it again; nothing that was final becomes provisional.
 */
const closeStateSaveStepMs = 60_000;

export interface RatingProcessorOptions {
  readonly plans: RatingPlans;
  readonly allowedLatenessMs: number;
  readonly billingChild: string;
  readonly invoicesChild: string;
  readonly deadLetterChild: string;
  /** Named in dead letters (see `unratedDeadLetter`). */
  readonly metersTopic: string;
  readonly ratingCounters: RatingCounters;
  readonly meteringCounters: MeteringCounters;
}

type Output = BillingDetailRecord | InvoiceRecord | DeadLetterRecord;

/** What `writeDetail` rates: a charge's usage in one segment, on the segment's terms. */
interface DetailRating {
  readonly customerId: string;
  readonly charge: ChargeConfig;
  readonly aggregation: AggregationName;
  readonly chargeUsage: ChargeUsage;
  readonly segment: BillingSegment;
  readonly terms: PeriodTerms;
  readonly closeAtMs: number;
}

export function ratingProcessor(options: RatingProcessorOptions): ProcessorSupplier<string, UsageByCustomer, string, Output> {
  const { plans, allowedLatenessMs, billingChild, invoicesChild, deadLetterChild, metersTopic, ratingCounters: counters } = options;
  return () => {
    let context: ProcessorContext<string, Output>;
    let details: KeyValueStore<DetailState>;
    let periods: KeyValueStore<PeriodTerms>;
    let openDetails: KeyValueStore<string>;
    let closeStore: KeyValueStore<RatingCloseState>;
    let closeState: RatingCloseState;
    let savedFinalizedThroughMs: number;
    const revisions = new FlushRevisions();
    let invoices: InvoiceLedger;
    /** Open details by close time, loaded from `rating-open-details` when the task starts. */
    const openIndex = new OpenDetailIndex();

    const nextRevision = (key: string, previous: BillingDetailRecord | undefined): number => revisions.next(key, previous?.revision);

    /** Writes a detail, and its line on the period's invoice. */
    function putDetail(key: string, state: DetailState, timestampMs: number): void {
      details.put(key, state, timestampMs);
      invoices.record(key, state.detail, timestampMs);
    }

    /** Emits a detail whose revision changed since the previous flush. */
    const onFlush: CacheFlushListener<DetailState> = (entry) => {
      revisions.flushed(entry.key);
      const next = entry.newValue;
      if (next === undefined || next.detail.revision === entry.oldValue?.detail.revision) return;
      counters.billingRecords++;
      // Stamped with the period's last instant: an event time, never ahead of the data.
      context.forward(new StreamRecord<string, Output>({ key: entry.key, value: next.detail, timestampMs: next.periodEndMs - 1 }), billingChild);
    };

    /** The terms the period of a customer with `plan` started with, recorded with its first usage. */
    function termsOf(usage: CustomerUsage, period: BillingPeriod, timestampMs: number): PeriodTerms {
      const { customer } = usage;
      const key = periodTermsKey(customer.id, period.start);
      const known = periods.get(key);
      if (known !== undefined) return known;
      const terms: PeriodTerms = { plan: planAtPeriodStart(customer, period.startMs), currency: customer.currency, timezone: customer.timezone };
      periods.put(key, terms, timestampMs);
      return terms;
    }

    /** The segment the usage's window start falls in, and its terms; undefined outside every subscription. */
    function segmentFor(usage: CustomerUsage, period: BillingPeriod, timestampMs: number): { segment: BillingSegment; terms: PeriodTerms } | undefined {
      const { customer } = usage;
      if (customer.subscriptions === undefined) {
        const terms = termsOf(usage, period, timestampMs);
        return { segment: wholePeriodSegment(period, terms.plan), terms };
      }
      const span = subscriptionAt(customer, usage.windowStartMs);
      if (span === undefined) return undefined;
      return { segment: segmentOf(period, span, customer.timezone), terms: { plan: span.plan, currency: customer.currency, timezone: customer.timezone } };
    }

    function rateInto(charge: ChargeConfig, usage: CustomerUsage, segment: BillingSegment, terms: PeriodTerms, timestampMs: number): void {
      const key = detailKey(usage.customer.id, charge.key, segment.start);
      const previous = details.get(key);
      const aggregation = plans.aggregations.get(usage.meter) ?? usage.aggregation;
      const intervalIndex = charge.model === 'time_of_day' ? intervalIndexAt(charge.intervals ?? [], usage.windowStartMs, terms.timezone) : undefined;
      const chargeUsage = applyUsageChange(previous?.usage ?? initialChargeUsage(charge, aggregation), usage.change, aggregation, intervalIndex);
      const closeAtMs = segmentCloseMs(segment, usage.customer) + allowedLatenessMs;
      const revised = writeDetail(key, previous, { customerId: usage.customer.id, charge, aggregation, chargeUsage, segment, terms, closeAtMs }, timestampMs);
      if (revised && closeAtMs <= closeState.finalizedThroughMs) counters.billingCorrections++;
    }

    /**
     * Rates `usage` of `charge` for `segment` and stores it under `key`, with
     * the next revision when the detail says something new (else the previous
     * detail, or nothing at all when the usage did not move either). A detail
     * whose close time stream time has passed is written final. True when the
     * detail got a new revision.
     */
    function writeDetail(key: string, previous: DetailState | undefined, rating: DetailRating, timestampMs: number): boolean {
      const { customerId, charge, aggregation, chargeUsage, segment, terms, closeAtMs } = rating;
      const final = closeAtMs <= closeState.finalizedThroughMs;
      const minorUnits = currencyMinorUnits(terms.currency) ?? 2;
      const fields = {
        key,
        customerId,
        plan: terms.plan,
        charge,
        segment,
        timezone: terms.timezone,
        currency: terms.currency,
        quantity: usageQuantity(chargeUsage, aggregation),
        rated: rateCharge(charge, modelQuantity(chargeUsage, aggregation), minorUnits, { segmentMs: segment.endMs - segment.startMs, periodMs: segment.period.endMs - segment.period.startMs }),
        status: final ? ('final' as const) : ('provisional' as const),
      };
      let detail = billingDetailRecord(fields, previous?.detail.revision ?? 0);
      const revised = previous === undefined || !sameDetailContent(previous.detail, detail);
      if (revised) {
        detail = { ...detail, revision: nextRevision(key, previous?.detail) };
      } else {
        if (JSON.stringify(previous.usage) === JSON.stringify(chargeUsage) && previous.closeAtMs === closeAtMs) return false;
        detail = previous.detail; // usage moved (e.g. a later LATEST with the same value), the detail did not: no new revision
      }
      putDetail(key, { usage: chargeUsage, detail, periodEndMs: segment.endMs, closeAtMs }, timestampMs);
      if (final) {
        openIndex.settle(customerId, key);
      } else if (previous?.closeAtMs !== closeAtMs) {
        // A change of the customer's terms can move the close time of a detail already open.
        const openKey = openDetailKey(closeAtMs, key);
        openDetails.put(openKey, key, timestampMs);
        openIndex.add(openKey, key, customerId);
      }
      return revised;
    }

    /**
     * The customer's terms changed on the customers topic: re-rates each of
     * its open details whose segment now ends elsewhere or closes at another
     * time (a cancellation, a plan change added inside the period). Usage
     * already rated stays in its detail, on its plan; a detail whose new close
     * time stream time has passed turns final now.
     */
    function reviseOpenDetails(customer: CustomerTerms): void {
      for (const key of openIndex.detailsOf(customer.id)) {
        const state = details.get(key);
        if (state === undefined || state.detail.status === 'final') {
          openIndex.settle(customer.id, key);
          continue;
        }
        const { detail } = state;
        const charge = plans.byPlan.get(detail.plan)?.get(detail.meter)?.find((candidate) => candidate.key === detail.charge);
        const aggregation = plans.aggregations.get(detail.meter);
        if (charge === undefined || aggregation === undefined) continue; // no longer in the config: left as rated
        const segment = resegment(segmentOfDetail(detail), customer, detail.timezone);
        const closeAtMs = segmentCloseMs(segment, customer) + allowedLatenessMs;
        if (segment.endMs === state.periodEndMs && closeAtMs === state.closeAtMs) continue;
        const terms: PeriodTerms = { plan: detail.plan, currency: detail.currency, timezone: detail.timezone };
        writeDetail(key, state, { customerId: customer.id, charge, aggregation, chargeUsage: state.usage, segment, terms, closeAtMs }, segment.endMs - 1);
        counters.detailsRevised++;
        if (closeAtMs <= closeState.finalizedThroughMs) counters.billingFinals++;
      }
    }

    /** Finalizes every open detail whose close time `timeMs` (stream time or wall clock) has reached. */
    function finalizeThrough(timeMs: number): void {
      if (timeMs <= closeState.finalizedThroughMs) return;
      const due = openIndex.earliestCloseAtMs <= timeMs;
      if (due) finalizeDue(timeMs);
      closeState = { finalizedThroughMs: timeMs };
      if (due || Math.floor(timeMs / closeStateSaveStepMs) !== Math.floor(savedFinalizedThroughMs / closeStateSaveStepMs)) {
        savedFinalizedThroughMs = timeMs;
        saveRatingCloseState(closeStore, closeState, timeMs);
      }
    }

    function finalizeDue(timeMs: number): void {
      for (const { openKey, key } of openIndex.takeDue(timeMs)) {
        const state = details.get(key);
        // An entry whose detail's close time moved later since is skipped: the later entry closes it.
        if (state !== undefined && state.detail.status !== 'final' && state.closeAtMs <= timeMs) {
          const detail: BillingDetailRecord = { ...withBillingPeriod(state.detail), status: 'final', revision: nextRevision(key, state.detail) };
          putDetail(key, { ...state, detail }, state.periodEndMs - 1);
          openIndex.settle(detail.customerId, key);
          counters.billingFinals++;
        }
        openDetails.delete(openKey, timeMs);
      }
    }

    return {
      async init(ctx) {
        context = ctx;
        details = ctx.getKeyValueStore<DetailState>(ratingStoreNames.details);
        emitOnFlush(details, ratingStoreNames.details, 'billing details', onFlush);
        periods = ctx.getKeyValueStore<PeriodTerms>(ratingStoreNames.periods);
        invoices = new InvoiceLedger(ctx.getKeyValueStore<InvoiceState>(ratingStoreNames.invoices), ratingStoreNames.invoices, (key, invoice, timestampMs) => {
          counters.invoiceRecords++;
          context.forward(new StreamRecord<string, Output>({ key, value: invoice, timestampMs }), invoicesChild);
        });
        openDetails = ctx.getKeyValueStore<string>(ratingStoreNames.openDetails);
        closeStore = ctx.getKeyValueStore<RatingCloseState>(ratingStoreNames.closeState);
        closeState = loadRatingCloseState(closeStore);
        for await (const entry of openDetails.all()) {
          const customerId = details.get(entry.value)?.detail.customerId;
          if (customerId !== undefined) openIndex.add(entry.key, entry.value, customerId);
        }
        savedFinalizedThroughMs = closeState.finalizedThroughMs;
        // Interval 1 ms: runs after every record that advances stream time.
        ctx.schedule(1, 'stream-time', finalizeThrough);
        ctx.schedule(ratingWallClockCloseIntervalMs, 'wall-clock', finalizeThrough);
      },

      process(record) {
        if (isTermsChange(record.value)) return reviseOpenDetails(record.value.customer);
        const usage = record.value;
        const { customer } = usage;
        const period = billingPeriodAt(usage.windowStartMs, customer.timezone, customer.billingAnchor);
        const unrated = (why: string): void => {
          options.meteringCounters.deadLetters.unrated++;
          context.forward(record.withValue<Output>(unratedDeadLetter(usage, why, metersTopic, context.partition)), deadLetterChild);
        };
        const found = segmentFor(usage, period, record.timestampMs);
        if (found === undefined) return unrated(`customer ${customer.id} has no subscription at ${new Date(usage.windowStartMs).toISOString()}; usage outside every subscription is not billed`);
        const { segment, terms } = found;
        const byMeter = plans.byPlan.get(terms.plan);
        if (byMeter === undefined) {
          return unrated(`customer ${customer.id}'s period from ${segment.start} is on plan ${JSON.stringify(terms.plan)}, which the config no longer declares; declare it again to bill this period`);
        }
        const charges = (byMeter.get(usage.meter) ?? []).filter((charge) => matchesFilter(charge.filter, usage.groupBy));
        if (charges.length === 0) counters.usageNotCharged++;
        for (const charge of charges) rateInto(charge, usage, segment, terms, record.timestampMs);
      },
    };
  };
}
