/**
 * Keys and values of `tally-billing-details` (docs/rating.md, "Billing details"): the key
 * `customer|charge|periodStart` (periodStart ISO-8601 with the customer's
 * offset) and a deterministic `detailId` derived from it, so a replay
 * overwrites the same detail instead of adding one.
 */
import { createHash } from 'node:crypto';
import type { BillingDetailRecord, BillingLine, BillingStatus } from '../../schemas/billing-detail.js';
import type { ChargeConfig } from '../../schemas/config-types.js';
import type { BillingSegment } from './subscriptions.js';
import type { RatedAmount } from './models/index.js';

/** `customer|charge|periodStart`: the topic key and the rating store key. */
export function detailKey(customerId: string, chargeKey: string, periodStart: string): string {
  return `${customerId}|${chargeKey}|${periodStart}`;
}

/** First 128 bits of SHA-256 of a record key (a detail's, an invoice's), as 32 hex digits: stable across runs and replays. */
export function detailIdOf(key: string): string {
  let id = detailIds.get(key);
  if (id === undefined) {
    id = createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 32);
    if (detailIds.size >= maxCachedDetailIds) detailIds.clear();
    detailIds.set(key, id);
  }
  return id;
}

/** Recent detail ids: a detail is re-rated on every usage change, and hashing was a hot spot. */
const detailIds = new Map<string, string>();
const maxCachedDetailIds = 100_000;

export interface DetailFields {
  readonly key: string;
  readonly customerId: string;
  readonly plan: string;
  readonly charge: ChargeConfig;
  readonly segment: BillingSegment;
  readonly timezone: string;
  readonly currency: string;
  readonly quantity: string;
  readonly rated: RatedAmount;
  readonly status: BillingStatus;
}

/** The record, fields in the order of the Avro schema. */
export function billingDetailRecord(fields: DetailFields, revision: number): BillingDetailRecord {
  return {
    detailId: detailIdOf(fields.key),
    customerId: fields.customerId,
    plan: fields.plan,
    charge: fields.charge.key,
    meter: fields.charge.meter,
    periodStart: fields.segment.start,
    periodEnd: fields.segment.end,
    billingPeriodStart: fields.segment.period.start,
    billingPeriodEnd: fields.segment.period.end,
    timezone: fields.timezone,
    currency: fields.currency,
    quantity: fields.quantity,
    amount: fields.rated.amount,
    lines: fields.rated.lines,
    status: fields.status,
    revision,
  };
}

/** Every field of a detail but its lines and revision. */
const detailFields = [
  'detailId',
  'customerId',
  'plan',
  'charge',
  'meter',
  'periodStart',
  'periodEnd',
  'billingPeriodStart',
  'billingPeriodEnd',
  'timezone',
  'currency',
  'quantity',
  'amount',
  'status',
] as const satisfies readonly Exclude<keyof BillingDetailRecord, 'lines' | 'revision'>[];

/** True when two details say the same thing (revision aside). Field by field: it runs for every usage change rated. */
export function sameDetailContent(left: BillingDetailRecord, right: BillingDetailRecord): boolean {
  for (const field of detailFields) if (left[field] !== right[field]) return false;
  // A field this version does not know (a detail written by a later one) differs too.
  return Object.keys(left).length === Object.keys(right).length && sameLines(left.lines, right.lines);
}

const lineFields = ['label', 'from', 'to', 'quantity', 'unitPrice', 'flatFee', 'amount'] as const;

function sameLines(left: readonly BillingLine[], right: readonly BillingLine[]): boolean {
  if (left.length !== right.length) return false;
  for (let index = 0; index < left.length; index++) {
    const a = left[index] as BillingLine;
    const b = right[index] as BillingLine;
    for (const field of lineFields) if (a[field] !== b[field]) return false;
    // A field this version does not know (a line written by a later one) differs too.
    if (Object.keys(a).length !== Object.keys(b).length) return false;
  }
  return true;
}

/** The segment a detail covers, read back from the detail's own bounds. */
export function segmentOfDetail(detail: BillingDetailRecord): BillingSegment {
  const { billingPeriodStart, billingPeriodEnd, periodStart, periodEnd, plan } = withBillingPeriod(detail);
  const period = { startMs: Date.parse(billingPeriodStart), endMs: Date.parse(billingPeriodEnd), start: billingPeriodStart, end: billingPeriodEnd };
  return { period, plan, startMs: Date.parse(periodStart), endMs: Date.parse(periodEnd), start: periodStart, end: periodEnd };
}

/**
 * A detail stored before billing periods could be split has no
 * `billingPeriodStart`/`billingPeriodEnd`: its period was its segment. Fills
 * them in, in the record's field order, so such a detail can be finalized
 * and invoiced after an upgrade.
 */
export function withBillingPeriod(detail: BillingDetailRecord): BillingDetailRecord {
  if ((detail as Partial<BillingDetailRecord>).billingPeriodStart !== undefined) return detail;
  const { detailId, customerId, plan, charge, meter, periodStart, periodEnd, billingPeriodStart: _start, billingPeriodEnd: _end, ...rest } = detail;
  return { detailId, customerId, plan, charge, meter, periodStart, periodEnd, billingPeriodStart: periodStart, billingPeriodEnd: periodEnd, ...rest };
}
