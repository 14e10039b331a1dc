/**
 * The reference: what the read_committed outputs must hold after a scenario,
 * computed from the labelled input alone — plain maps and BigInt fixed point
 * (metering-truth.ts and rating-truth.ts), never the pipeline's code.
 *
 * - meters: every on-time event's first copy (by source and id), per meter,
 *   subject, group-by and window; late and poison records count for nothing;
 * - billing: the customers' token totals, priced by hand, per customer,
 *   charge and period — provisional, since every period ends weeks after the run;
 * - invoices: per customer and period, a line per expected detail (by charge)
 *   and the exact sum of their amounts — draft, as their lines are provisional;
 * - alerts: per customer and period, each threshold of its token allowance that
 *   the period's token total reaches (usage only grows here, so a threshold
 *   reached at the end was crossed once on the way) — each exactly once;
 * - late: one `window-closed` record per meter reading each distinct late event;
 * - dead letters: each poison record once, with its reason and its original bytes.
 *
 * It also refuses a scenario whose outcome would depend on the processing
 * interleaving (a late event sharing an identity with an on-time one, or one
 * not far enough behind its subject's on-time usage to be late in every order).
 */
import { createHash } from 'node:crypto';
import type { DeadLetterReason } from '../../schemas/records.js';
import { lateTruth, meterTruth, windowMs, type CloudEvent, type MeterValue } from '../kafka/metering-truth.js';
import { format, ratingTruth, toScaled, type DetailTruth } from '../kafka/rating-truth.js';
import { allowedLatenessMs, type FaultCustomer, type SentRecord } from './fault-inputs.js';

export interface ExpectedDeadLetter {
  readonly reason: DeadLetterReason;
  readonly label: string;
  /** SHA-256 of the original value, hex; null for a tombstone. */
  readonly valueSha: string | null;
}

export interface ScenarioCounts {
  /** Records sent to the input topic. */
  readonly eventsIn: number;
  /** Copies of a valid or late event beyond its first (same source and id). */
  readonly duplicates: number;
  /** Distinct late events. */
  readonly late: number;
  /** Poison records: each must be dead-lettered once. */
  readonly deadLettered: number;
  /** Alerts expected: each must be written once. */
  readonly alerts: number;
}

export interface Expected {
  /** `meter|subject|groupBy|windowStart` → value and event count. */
  readonly meters: ReadonlyMap<string, MeterValue>;
  /** `customer|charge|periodStart` → quantity and amount. */
  readonly billing: ReadonlyMap<string, DetailTruth>;
  readonly billingStatus: 'provisional';
  /** `customer|periodStart` → the invoice's lines (by charge) and total. */
  readonly invoices: ReadonlyMap<string, InvoiceTruth>;
  readonly invoiceStatus: 'draft';
  /** `customer|entitlement|threshold|periodStart` → the usage the alert must report at least (threshold% × limit), and at most (the period's total). */
  readonly alerts: ReadonlyMap<string, AlertTruth>;
  /** `meter|eventId`, one late record each. */
  readonly late: ReadonlySet<string>;
  /** The poison record's Kafka key → what its dead letter must say. */
  readonly deadLetters: ReadonlyMap<string, ExpectedDeadLetter>;
  readonly deadLettersByReason: Readonly<Record<string, number>>;
  readonly counts: ScenarioCounts;
}

export interface AlertTruth {
  /** threshold% × limit, in thousandths. */
  readonly atLeastMilli: bigint;
  /** The period's token total, in thousandths. */
  readonly atMostMilli: bigint;
}

/**
 * The alerts of each customer's token entitlements (no filter; the `base`
 * charge's quantity is the period's token total): every threshold with
 * total × 100 ≥ limit × threshold.
 */
export function alertTruth(billing: ReadonlyMap<string, DetailTruth>, customers: readonly FaultCustomer[]): Map<string, AlertTruth> {
  const alerts = new Map<string, AlertTruth>();
  const byId = new Map(customers.map((c) => [c.id, c]));
  for (const [key, detail] of billing) {
    const [customerId, charge, periodStart] = key.split('|') as [string, string, string];
    if (charge !== 'base') continue;
    const totalMilli = toScaled(detail.quantity, 3);
    for (const entitlement of byId.get(customerId)?.entitlements ?? []) {
      const limitMilli = toScaled(entitlement.limit, 3);
      for (const threshold of entitlement.alerts) {
        const atLeastMilli = (limitMilli * BigInt(threshold)) / 100n;
        if (totalMilli * 100n >= limitMilli * BigInt(threshold)) alerts.set(`${customerId}|${entitlement.key}|${threshold}|${periodStart}`, { atLeastMilli, atMostMilli: totalMilli });
      }
    }
  }
  return alerts;
}

export interface InvoiceTruth {
  /** Ordered by charge key (one segment per period here). */
  readonly lines: readonly ({ readonly charge: string } & DetailTruth)[];
  readonly total: string;
}

/** Groups the expected details (`customer|charge|periodStart`) into invoices, adding amounts in BigInt fixed point. */
export function invoiceTruth(billing: ReadonlyMap<string, DetailTruth>): Map<string, InvoiceTruth> {
  const byInvoice = new Map<string, ({ readonly charge: string } & DetailTruth)[]>();
  for (const [key, detail] of billing) {
    const [customer, charge, periodStart] = key.split('|') as [string, string, string];
    const invoiceKey = `${customer}|${periodStart}`;
    byInvoice.set(invoiceKey, [...(byInvoice.get(invoiceKey) ?? []), { charge, ...detail }]);
  }
  return new Map(
    [...byInvoice].map(([key, lines]) => {
      const sorted = [...lines].sort((a, b) => (a.charge < b.charge ? -1 : 1));
      return [key, { lines: sorted, total: format(sorted.reduce((sum, line) => sum + toScaled(line.amount, 7), 0n), 7) }];
    }),
  );
}

export function sha256(value: Buffer | null): string | null {
  return value === null ? null : createHash('sha256').update(value).digest('hex');
}

const identity = (e: CloudEvent): string => `${e.source}\u0000${e.id}`;

function firstCopies(events: readonly CloudEvent[]): CloudEvent[] {
  const seen = new Set<string>();
  const first: CloudEvent[] = [];
  for (const e of events) {
    if (seen.has(identity(e))) continue;
    seen.add(identity(e));
    first.push(e);
  }
  return first;
}

/** Throws unless every late event is late whatever order the pipeline reads the input in. */
function checkLatenessIsUnambiguous(onTime: readonly CloudEvent[], late: readonly CloudEvent[]): void {
  const onTimeIds = new Set(onTime.map(identity));
  const earliestOnTimeMs = new Map<string, number>();
  for (const e of onTime) earliestOnTimeMs.set(e.subject, Math.min(earliestOnTimeMs.get(e.subject) ?? Infinity, Date.parse(e.time)));
  for (const e of late) {
    if (onTimeIds.has(identity(e))) throw new Error(`test design: late event ${e.id} shares its identity with an on-time event; which copy counts would depend on the order`);
    // Scenarios send a late storm only once the outputs show on-time usage of every subject processed,
    // so its task's stream time is at least the subject's earliest on-time event, whatever was read first.
    const closesAtMs = Math.floor(Date.parse(e.time) / windowMs) * windowMs + windowMs + allowedLatenessMs;
    const streamTimeMs = earliestOnTimeMs.get(e.subject);
    if (streamTimeMs === undefined || closesAtMs > streamTimeMs) throw new Error(`test design: late event ${e.id} (${e.time}, ${e.subject}) is not past grace behind its subject's on-time usage`);
  }
}

export function expectedOutcome(sent: readonly SentRecord[], customers: readonly FaultCustomer[]): Expected {
  const events = (kind: 'on-time' | 'late') => sent.flatMap((r) => (r.kind === kind ? [r.event] : []));
  const onTime = events('on-time');
  const late = firstCopies(events('late'));
  checkLatenessIsUnambiguous(onTime, late);

  const deadLetters = new Map<string, ExpectedDeadLetter>();
  const deadLettersByReason: Record<string, number> = {};
  for (const r of sent) {
    if (r.kind !== 'poison') continue;
    if (deadLetters.has(r.key)) throw new Error(`test design: two poison records under key ${r.key}`);
    deadLetters.set(r.key, { reason: r.reason, label: r.label, valueSha: sha256(r.value) });
    deadLettersByReason[r.reason] = (deadLettersByReason[r.reason] ?? 0) + 1;
  }

  const valid = onTime.length + events('late').length;
  const billing = ratingTruth(onTime.filter((e) => e.type === 'llm.tokens'), customers);
  const alerts = alertTruth(billing, customers);
  return {
    meters: meterTruth(onTime),
    billing,
    billingStatus: 'provisional',
    invoices: invoiceTruth(billing),
    invoiceStatus: 'draft',
    alerts,
    late: new Set(lateTruth(late)),
    deadLetters,
    deadLettersByReason,
    counts: { eventsIn: sent.length, duplicates: valid - firstCopies(onTime).length - late.length, late: late.length, deadLettered: deadLetters.size, alerts: alerts.size },
  };
}
