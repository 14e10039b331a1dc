/**
 * Subscriptions and the segments they cut billing periods into.
 *
 * A customer with `plan` has one subscription from the beginning of time,
 * never cancelled (its plan history, `previousPlan`/`planChangedAt`, is
 * handled by `planAtPeriodStart`). A customer with `subscriptions` has one
 * span per entry: from its `from` (inclusive) to the next entry's `from`, or
 * to `cancelledAt`, or for ever (exclusive end).
 *
 * A segment is the part of a billing period one span covers. When no span
 * boundary falls inside the period, the segment is the whole period (and
 * rating is exactly what it was before subscriptions existed). Every bound is
 * an instant (epoch ms) compared with instants; the strings only carry the
 * customer's offset for people.
 */
import { DateTime } from 'luxon';
import type { CustomerConfig } from '../../schemas/config-types.js';
import type { BillingPeriod } from './billing-period.js';

/** One subscription as an interval of instants. */
export interface SubscriptionSpan {
  readonly plan: string;
  /** Inclusive, epoch ms; -Infinity for a customer with `plan`. */
  readonly fromMs: number;
  /** Exclusive, epoch ms; Infinity while nothing follows it. */
  readonly toMs: number;
}

/** What of a customer the spans depend on. */
export type SubscribedCustomer = Pick<CustomerConfig, 'plan' | 'subscriptions' | 'cancelledAt'>;

/** The customer's subscriptions in order; a customer with `plan` has one unbounded span. */
export function subscriptionSpans(customer: SubscribedCustomer): SubscriptionSpan[] {
  const list = customer.subscriptions;
  if (list === undefined) return customer.plan === undefined ? [] : [{ plan: customer.plan, fromMs: -Infinity, toMs: Infinity }];
  const cancelledMs = customer.cancelledAt === undefined ? Infinity : Date.parse(customer.cancelledAt);
  const spans: SubscriptionSpan[] = [];
  list.forEach((subscription, index) => {
    const fromMs = Date.parse(subscription.from);
    const next = list[index + 1];
    const nextMs = next === undefined ? Infinity : Date.parse(next.from);
    const toMs = Math.min(nextMs, cancelledMs);
    if (fromMs < toMs) spans.push({ plan: subscription.plan, fromMs, toMs });
  });
  return spans;
}

/** The span that holds `instantMs`, if any (usage outside every span is not billed). */
export function subscriptionAt(customer: SubscribedCustomer, instantMs: number): SubscriptionSpan | undefined {
  return subscriptionSpans(customer).find((span) => span.fromMs <= instantMs && instantMs < span.toMs);
}

/** The part of a billing period one subscription covers. */
export interface BillingSegment {
  readonly period: BillingPeriod;
  readonly plan: string;
  /** Inclusive, epoch ms. */
  readonly startMs: number;
  /** Exclusive, epoch ms. */
  readonly endMs: number;
  /** ISO-8601 with the customer's offset at `startMs` (the period's own string when they coincide). */
  readonly start: string;
  readonly end: string;
}

function localIso(instantMs: number, timezone: string): string {
  return DateTime.fromMillis(instantMs, { zone: timezone }).toISO() as string;
}

/** `period` cut to `span`; the span must overlap the period. */
export function segmentOf(period: BillingPeriod, span: SubscriptionSpan, timezone: string): BillingSegment {
  const startMs = Math.max(period.startMs, span.fromMs);
  const endMs = Math.min(period.endMs, span.toMs);
  return {
    period,
    plan: span.plan,
    startMs,
    endMs,
    start: startMs === period.startMs ? period.start : localIso(startMs, timezone),
    end: endMs === period.endMs ? period.end : localIso(endMs, timezone),
  };
}

/**
 * `segment` under a customer's changed terms: the same start (it is in the
 * detail's key) and plan, ending where the subscription that now holds its
 * start ends, or at the period's end. A segment that no subscription holds
 * any more (the customer was cancelled before it began) keeps its end: its
 * usage was rated under the terms it was joined with.
 */
export function resegment(segment: BillingSegment, customer: SubscribedCustomer, timezone: string): BillingSegment {
  const span = subscriptionAt(customer, segment.startMs);
  if (span === undefined) return segment;
  const endMs = Math.min(segment.period.endMs, span.toMs);
  if (endMs === segment.endMs) return segment;
  return { ...segment, endMs, end: endMs === segment.period.endMs ? segment.period.end : localIso(endMs, timezone) };
}

/** The whole period as one segment on `plan` (a customer with `plan`). */
export function wholePeriodSegment(period: BillingPeriod, plan: string): BillingSegment {
  return { period, plan, startMs: period.startMs, endMs: period.endMs, start: period.start, end: period.end };
}

/**
 * When the segment's details turn final, before allowed lateness: the
 * period's end, or the cancellation when the customer was cancelled inside
 * the period (nothing after it can be billed, so nothing is waited for).
 */
export function segmentCloseMs(segment: BillingSegment, customer: SubscribedCustomer): number {
  const cancelledMs = customer.cancelledAt === undefined ? Infinity : Date.parse(customer.cancelledAt);
  return Math.min(segment.period.endMs, Math.max(cancelledMs, segment.endMs));
}
