/**
 * Entitlements: applies each customer's usage (the deltas rating reads, keyed
 * by customer) to every entitlement of the customer whose meter and filter it
 * matches, per billing period, and emits
 *
 * - the entitlement record (usage, remaining, overage, hasAccess) when the
 *   `entitlement-usage` cache flushes: coalesced per commit, with one
 *   revision per emitted change (as billing details and invoices);
 * - an alert the first time the period's usage reaches each threshold,
 *   forwarded while the record is processed. The thresholds sent are written
 *   to the same store entry as the usage, so under exactly-once the alert,
 *   the state that says it was sent and the input offset commit in one
 *   transaction: a crash before the commit loses all three (and the
 *   reprocessing sends the alert again, once); after it, none is resent.
 *
 * Period: the billing period that holds the delta's window start in the
 * customer's zone, as rating's; the segments of a period add up (the key has
 * no segment). Usage counts as a charge on the meter would: running total for
 * COUNT and SUM (a negative SUM change lowers it), and the period accumulator
 * merged over every window for LATEST, MAX and UNIQUE_COUNT. Usage that goes
 * down never takes an alert back, and a threshold is alerted at most once per
 * period even if usage drops below it and rises again.
 *
 * The customer's entitlements are those of the customer row the delta was
 * joined with. An entitlement changed on the customers topic also applies at
 * once to the period running when the change was written
 * (`reviseEntitlements`): a new limit to the period's usage so far, a new
 * threshold already reached alerts then.
 */
import type { EntitlementConfig } from '../../schemas/config-types.js';
import type { AlertRecord, EntitlementRecord } from '../../schemas/entitlement.js';
import type { CacheFlushListener, KeyValueStore } from '../../state/index.js';
import { StreamRecord, type ProcessorContext, type ProcessorSupplier } from '../../topology/index.js';
import { emitOnFlush } from '../cache-flushes.js';
import {
  applyUsageChange,
  billingPeriodAt,
  FlushRevisions,
  initialPeriodUsage,
  isTermsChange,
  matchesFilter,
  usageQuantity,
  type BillingPeriod,
  type ChargeUsage,
  type CustomerTerms,
  type CustomerTermsChange,
  type CustomerUsage,
  type RatingCounters,
  type UsageByCustomer,
} from '../rating/index.js';
import { alertKey, entitlementKey, entitlementStoreNames, entitlementTermsKey, type EntitlementState, type EntitlementTerms } from './entitlement-stores.js';
import { entitlementContent, sameEntitlementContent, thresholdsReached } from './entitlement-usage.js';
import { LatestPeriods } from './latest-periods.js';

export interface EntitlementProcessorOptions {
  readonly entitlementsChild: string;
  readonly alertsChild: string;
  readonly ratingCounters: RatingCounters;
}

type Output = EntitlementRecord | AlertRecord;

/** An entitlement's usage in one period, as `settle` stores it. */
interface Standing {
  readonly customer: CustomerTerms;
  readonly entitlement: EntitlementConfig;
  readonly period: BillingPeriod;
  readonly periodUsage: ChargeUsage;
  /** `periodUsage` as a canonical decimal. */
  readonly quantity: string;
  /** The event time a threshold reached now was crossed at, epoch ms. */
  readonly crossedAtMs: number;
}

/** The billing period a record covers, read back from its bounds. */
function periodOfRecord(record: EntitlementRecord): BillingPeriod {
  return { startMs: Date.parse(record.periodStart), endMs: Date.parse(record.periodEnd), start: record.periodStart, end: record.periodEnd };
}

export function entitlementProcessor(options: EntitlementProcessorOptions): ProcessorSupplier<string, UsageByCustomer, string, Output> {
  const { entitlementsChild, alertsChild, ratingCounters: counters } = options;
  return () => {
    let context: ProcessorContext<string, Output>;
    let store: KeyValueStore<EntitlementState>;
    let termsStore: KeyValueStore<EntitlementTerms>;
    const revisions = new FlushRevisions();
    const latest = new LatestPeriods();

    /** Emits a record whose revision changed since the previous flush. */
    const onFlush: CacheFlushListener<EntitlementState> = (entry) => {
      revisions.flushed(entry.key);
      const next = entry.newValue;
      if (next === undefined || next.record.revision === entry.oldValue?.record.revision) return;
      counters.entitlementRecords++;
      context.forward(new StreamRecord<string, Output>({ key: entry.key, value: next.record, timestampMs: next.timestampMs }), entitlementsChild);
    };

    function apply(entitlement: EntitlementConfig, usage: CustomerUsage, period: BillingPeriod, timestampMs: number): void {
      const key = entitlementKey(usage.customer.id, entitlement.key, period.start);
      const previous = store.get(key);
      const periodUsage = applyUsageChange(previous?.usage ?? initialPeriodUsage(usage.aggregation), usage.change, usage.aggregation, undefined);
      const quantity = usageQuantity(periodUsage, usage.aggregation);
      settle(key, previous, { customer: usage.customer, entitlement, period, periodUsage, quantity, crossedAtMs: usage.windowStartMs }, timestampMs);
    }

    /**
     * Stores an entitlement's standing in one period under `key`: the record
     * (a new revision when it says something new) and the thresholds reached,
     * each of which not alerted before is alerted now.
     */
    function settle(key: string, previous: EntitlementState | undefined, standing: Standing, timestampMs: number): void {
      const { customer, entitlement, period, periodUsage, quantity, crossedAtMs } = standing;
      const content = entitlementContent({ customerId: customer.id, entitlement, period, usage: quantity });
      const reached = thresholdsReached(entitlement, quantity, previous?.alerted ?? []);
      const changed = previous === undefined || !sameEntitlementContent(previous.record, content);
      if (!changed && reached.length === 0 && JSON.stringify(previous.usage) === JSON.stringify(periodUsage)) return;
      const record: EntitlementRecord = changed ? { ...content, revision: revisions.next(key, previous?.record.revision) } : previous.record;
      const alerted = reached.length === 0 ? (previous?.alerted ?? []) : [...(previous?.alerted ?? []), ...reached].sort((a, b) => a - b);
      const { timezone, billingAnchor } = customer;
      store.put(key, { usage: periodUsage, record, alerted, timestampMs: changed ? timestampMs : (previous as EntitlementState).timestampMs, timezone, billingAnchor }, timestampMs);
      latest.note(customer.id, entitlement.key, key, period.startMs);
      for (const threshold of reached) {
        const alert: AlertRecord = {
          customerId: customer.id,
          entitlement: entitlement.key,
          threshold,
          limit: content.limit,
          usage: quantity,
          periodStart: period.start,
          periodEnd: period.end,
          crossedAt: new Date(crossedAtMs).toISOString(),
        };
        counters.alertRecords++;
        context.forward(new StreamRecord<string, Output>({ key: alertKey(customer.id, entitlement.key, threshold, period.start), value: alert, timestampMs }), alertsChild);
      }
    }

    /** Keeps what the row says about entitlements, for queries (written only when it changed). */
    function saveTerms(customer: CustomerTerms, changedAtMs: number): void {
      const key = entitlementTermsKey(customer.id);
      const next: EntitlementTerms = { customerId: customer.id, entitlements: customer.entitlements ?? [], timezone: customer.timezone, billingAnchor: customer.billingAnchor };
      if (JSON.stringify(termsStore.get(key)) !== JSON.stringify(next)) termsStore.put(key, next, changedAtMs);
    }

    /**
     * The customer's entitlements changed on the customers topic: the latest
     * period of each entitlement still running when the change was written
     * gets the new limit and thresholds at once (a threshold the usage already
     * reaches alerts now, crossed at the change). Periods that ended before
     * the change keep what they were granted; an entitlement that now counts
     * another meter, or is gone, is left as it was.
     */
    function reviseEntitlements(change: CustomerTermsChange): void {
      const { customer, changedAtMs } = change;
      saveTerms(customer, changedAtMs);
      for (const entitlement of customer.entitlements ?? []) {
        const key = latest.keyOf(customer.id, entitlement.key);
        const state = key === undefined ? undefined : store.get(key);
        if (key === undefined || state === undefined || state.record.meter !== entitlement.meter) continue;
        const period = periodOfRecord(state.record);
        if (period.endMs <= changedAtMs) continue;
        const crossedAtMs = Math.min(Math.max(changedAtMs, period.startMs), period.endMs - 1);
        const standing = { customer, entitlement, period, periodUsage: state.usage, quantity: state.record.usage, crossedAtMs };
        settle(key, state, standing, state.timestampMs);
      }
    }

    return {
      async init(ctx) {
        context = ctx;
        store = ctx.getKeyValueStore<EntitlementState>(entitlementStoreNames.usage);
        emitOnFlush(store, entitlementStoreNames.usage, 'entitlement records', onFlush);
        termsStore = ctx.getKeyValueStore<EntitlementTerms>(entitlementStoreNames.terms);
        for await (const { key, value } of store.all()) latest.note(value.record.customerId, value.record.entitlement, key, Date.parse(value.record.periodStart));
      },

      process(record) {
        if (isTermsChange(record.value)) return reviseEntitlements(record.value);
        const usage = record.value;
        const entitlements = usage.customer.entitlements ?? [];
        if (entitlements.length === 0) return;
        let period: BillingPeriod | undefined;
        for (const entitlement of entitlements) {
          if (entitlement.meter !== usage.meter || !matchesFilter(entitlement.filter, usage.groupBy)) continue;
          period ??= billingPeriodAt(usage.windowStartMs, usage.customer.timezone, usage.customer.billingAnchor);
          apply(entitlement, usage, period, record.timestampMs);
        }
      },
    };
  };
}
