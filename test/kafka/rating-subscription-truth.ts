/**
 * Ground truth for the subscription-change test against a real broker,
 * computed from the input alone with BigInt fixed point and exact fractions
 * (never the pipeline's decimal, proration or period code): one UTC customer
 * on `pro` whose subscription switches to `basic` at a boundary inside the
 * current period, so the period has two segments.
 */
import { DateTime } from 'luxon';
import type { CloudEvent } from './metering-truth.js';
import { expectedPeriodStart, format, graduatedAmount, times, toScaled, type DetailTruth } from './rating-truth.js';

export const basicPlan = { key: 'basic', charges: [{ key: 'base', meter: 'tokens', model: 'per_unit', flatFee: '2', unitPrice: '0.002' }] } as const;

/** The customer row before and after the change, and the period the test's usage falls in. */
export interface SubscriptionCase {
  readonly before: Record<string, unknown>;
  readonly after: Record<string, unknown>;
  readonly id: string;
  readonly subjects: readonly string[];
  readonly periodStartMs: number;
  readonly periodEndMs: number;
  readonly boundaryMs: number;
}

export function subscriptionCase(prefix: string, nowMs: number, boundaryMs: number): SubscriptionCase {
  const day = Math.min(28, new Date(nowMs - 10 * 86_400_000).getUTCDate());
  const billingAnchor = `2024-01-${String(day).padStart(2, '0')}`;
  const id = `${prefix}-utc`;
  const subjects = [`${prefix}-a`, `${prefix}-b`];
  const periodStart = DateTime.fromISO(expectedPeriodStart(boundaryMs, 'UTC', billingAnchor), { zone: 'UTC' });
  const base = { id, subjects, timezone: 'UTC', currency: 'USD', billingAnchor };
  const pro = { plan: 'pro', from: periodStart.minus({ days: 40 }).toISO() };
  return {
    before: { ...base, subscriptions: [pro] },
    after: { ...base, subscriptions: [pro, { plan: 'basic', from: new Date(boundaryMs).toISOString() }] },
    id,
    subjects,
    periodStartMs: periodStart.toMillis(),
    periodEndMs: periodStart.plus({ months: 1 }).toMillis(),
    boundaryMs,
  };
}

/** flatFee × segmentMs ÷ periodMs + unitPrice × quantity, exact, rounded once half-up to cents; in 10^-7. */
export function proratedPerUnitAmount(quantityMilli: bigint, flatFee: string, unitPrice: string, segmentMs: number, periodMs: number): bigint {
  const denominator = BigInt(periodMs);
  const numerator = times(quantityMilli, unitPrice) * denominator + toScaled(flatFee, 7) * BigInt(segmentMs);
  const centScale = 100_000n; // 10^-7 per cent
  const cents = (2n * numerator + denominator * centScale) / (2n * denominator * centScale);
  return cents * centScale;
}

export interface SubscriptionTruth {
  readonly details: Map<string, DetailTruth>;
  /** The invoice's key and its total. */
  readonly invoiceKey: string;
  readonly invoiceTotal: string;
}

/** Quantities per segment over the distinct (source, id) events; the three details and the invoice total. */
export function subscriptionTruth(events: readonly CloudEvent[], c: SubscriptionCase): SubscriptionTruth {
  const seen = new Set<string>();
  let beforeMilli = 0n;
  let afterMilli = 0n;
  for (const e of events) {
    const identity = `${e.source}\u0000${e.id}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    const tokens = toScaled(e.data['tokens'], 3);
    // Windows are whole minutes and the boundary is on one: the event's time decides.
    if (Date.parse(e.time) < c.boundaryMs) beforeMilli += tokens;
    else afterMilli += tokens;
  }
  const periodMs = c.periodEndMs - c.periodStartMs;
  const periodStart = new Date(c.periodStartMs).toISOString();
  const boundary = new Date(c.boundaryMs).toISOString();
  const amounts = [
    proratedPerUnitAmount(beforeMilli, '5', '0.001', c.boundaryMs - c.periodStartMs, periodMs),
    graduatedAmount(beforeMilli),
    proratedPerUnitAmount(afterMilli, '2', '0.002', c.periodEndMs - c.boundaryMs, periodMs),
  ];
  const details = new Map<string, DetailTruth>([
    [`${c.id}|base|${periodStart}`, { quantity: format(beforeMilli, 3), amount: format(amounts[0] as bigint, 7) }],
    [`${c.id}|tiered|${periodStart}`, { quantity: format(beforeMilli, 3), amount: format(amounts[1] as bigint, 7) }],
    [`${c.id}|base|${boundary}`, { quantity: format(afterMilli, 3), amount: format(amounts[2] as bigint, 7) }],
  ]);
  return { details, invoiceKey: `${c.id}|${periodStart}`, invoiceTotal: format(amounts.reduce((a, b) => a + b, 0n), 7) };
}
