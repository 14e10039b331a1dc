/**
 * Ground truth for the rating integration test, computed from the input alone
 * with BigInt fixed-point arithmetic — never with the pipeline's decimal,
 * rating-model or billing-period code: the config (one SUM meter, a plan with a
 * per_unit and a graduated charge, two customers in different zones), the
 * events, the expected quantity and amount per (customer, charge), and the
 * period start each customer's usage must be billed in (luxon, by hand).
 */
import { DateTime } from 'luxon';
import { seededRandom, type CloudEvent } from './metering-truth.js';

export const ratingMeter = { slug: 'tokens', eventType: 'llm.tokens', aggregation: 'SUM', valueProperty: '$.tokens' } as const;

export const graduatedTiers = [
  { upTo: 1_000_000, unitPrice: '0.002', flatFee: '10' },
  { upTo: 2_000_000, unitPrice: '0.0015', flatFee: '5' },
  { unitPrice: '0.001' },
] as const;

export const ratingPlan = {
  key: 'pro',
  charges: [
    { key: 'base', meter: 'tokens', model: 'per_unit', flatFee: '5', unitPrice: '0.001' },
    { key: 'tiered', meter: 'tokens', model: 'graduated', tiers: graduatedTiers },
  ],
} as const;

export interface TestCustomer {
  readonly id: string;
  readonly subjects: readonly string[];
  readonly timezone: string;
  readonly currency: 'USD';
  readonly billingAnchor: string;
  readonly plan: 'pro';
}

/**
 * Two customers, two subjects each, in zones on different sides of UTC. The
 * anchor's day is that of ten days ago (at most 28), so the current period
 * started ~10 days ago and every event of the last hour is well inside it.
 */
export function testCustomers(nowMs: number, prefix: string): TestCustomer[] {
  const tenDaysAgo = new Date(nowMs - 10 * 86_400_000);
  const day = Math.min(28, tenDaysAgo.getUTCDate());
  const anchor = `2024-01-${String(day).padStart(2, '0')}`;
  return [
    { id: `${prefix}-la`, subjects: [`${prefix}-la-prod`, `${prefix}-la-dev`], timezone: 'America/Los_Angeles', currency: 'USD', billingAnchor: anchor, plan: 'pro' },
    { id: `${prefix}-in`, subjects: [`${prefix}-in-prod`, `${prefix}-in-dev`], timezone: 'Asia/Kolkata', currency: 'USD', billingAnchor: anchor, plan: 'pro' },
  ];
}

/** The local-midnight start of the monthly period holding `ms` in `zone` (anchor day ≤ 28: no clamping), as the pipeline prints it. */
export function expectedPeriodStart(ms: number, zone: string, anchor: string): string {
  const day = Number(anchor.slice(8, 10));
  const local = DateTime.fromMillis(ms, { zone });
  let start = local.set({ day }).startOf('day');
  if (start > local) start = start.minus({ months: 1 }).set({ day }).startOf('day');
  const iso = start.toISO();
  if (iso === null) throw new Error(`test: no ISO for ${ms} in ${zone}`);
  return iso;
}

/** `count` llm.tokens events over the subjects, times in [fromMs, toMs), tokens as numbers or decimal strings (≤ 3 places, < 5000). */
export function generateTokenEvents(options: { count: number; subjects: readonly string[]; fromMs: number; toMs: number; seed: number; idPrefix: string }): CloudEvent[] {
  const random = seededRandom(options.seed);
  const pick = (n: number): number => Math.floor(random() * n);
  const events: CloudEvent[] = [];
  for (let i = 0; i < options.count; i++) {
    const timeMs = options.fromMs + pick(options.toMs - options.fromMs);
    const subject = options.subjects[pick(options.subjects.length)] as string;
    const milli = pick(5_000_000);
    const tokens = random() < 0.5 ? milli / 1000 : `${Math.floor(milli / 1000)}.${String(milli % 1000).padStart(3, '0')}`;
    events.push({ specversion: '1.0', id: `${options.idPrefix}-${i}`, source: `svc-${pick(2)}`, type: 'llm.tokens', subject, time: new Date(timeMs).toISOString(), data: { tokens } });
  }
  return events;
}

// --- fixed point: quantities in thousandths, money in 10^-7 (prices have ≤ 4 places) ---

const milliScale = 1000n;
const moneyScale = 10_000_000n;

export function toScaled(value: unknown, places: number): bigint {
  const text = typeof value === 'number' ? String(value) : (value as string);
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (match === null || (match[2] ?? '').length > places) throw new Error(`test data: ${JSON.stringify(value)} is not a non-negative decimal with at most ${places} places`);
  return BigInt(match[1] as string) * 10n ** BigInt(places) + BigInt((match[2] ?? '').padEnd(places, '0'));
}

export function format(scaled: bigint, places: number): string {
  const unit = 10n ** BigInt(places);
  const fraction = String(scaled % unit).padStart(places, '0').replace(/0+$/, '');
  return `${scaled / unit}${fraction === '' ? '' : `.${fraction}`}`;
}

/** Exact money (10^-7) rounded half-up to cents, back in 10^-7. */
function roundCents(money: bigint): bigint {
  const cent = moneyScale / 100n;
  return ((money + cent / 2n) / cent) * cent;
}

/** quantity (milli) × price → money (10^-7). */
export function times(quantityMilli: bigint, price: string): bigint {
  return (quantityMilli * toScaled(price, 7)) / milliScale; // exact: price has ≤ 4 places, so the product has ≤ 7
}

export function perUnitAmount(quantityMilli: bigint): bigint {
  return roundCents(toScaled('5', 7) + times(quantityMilli, '0.001'));
}

export function graduatedAmount(quantityMilli: bigint): bigint {
  let total = 0n;
  let from = 0n;
  for (const tier of graduatedTiers) {
    if (quantityMilli <= from) break;
    const to = 'upTo' in tier ? BigInt(tier.upTo) * milliScale : undefined;
    const top = to === undefined || quantityMilli < to ? quantityMilli : to;
    const flat = 'flatFee' in tier ? toScaled(tier.flatFee, 7) : 0n;
    total += roundCents(times(top - from, tier.unitPrice) + flat);
    if (to === undefined) break;
    from = to;
  }
  return total;
}

export interface DetailTruth {
  readonly quantity: string;
  readonly amount: string;
}

/**
 * key `customer|charge|periodStart` → quantity and amount: quantity is the sum
 * of the distinct (source, id) events' tokens over the customer's subjects.
 */
export function ratingTruth(events: readonly CloudEvent[], customers: readonly TestCustomer[]): Map<string, DetailTruth> {
  const seen = new Set<string>();
  const byCustomer = new Map<string, { milli: bigint; periods: Set<string> }>();
  const owner = new Map(customers.flatMap((c) => c.subjects.map((s) => [s, c] as const)));
  for (const e of events) {
    const identity = `${e.source}\u0000${e.id}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    const customer = owner.get(e.subject);
    if (customer === undefined) throw new Error(`test data: subject ${e.subject} has no customer`);
    const acc = byCustomer.get(customer.id) ?? { milli: 0n, periods: new Set<string>() };
    acc.milli += toScaled(e.data['tokens'], 3);
    acc.periods.add(expectedPeriodStart(Date.parse(e.time), customer.timezone, customer.billingAnchor));
    byCustomer.set(customer.id, acc);
  }
  const truth = new Map<string, DetailTruth>();
  for (const [id, { milli, periods }] of byCustomer) {
    if (periods.size !== 1) throw new Error(`test data: ${id}'s events span ${periods.size} periods (${[...periods].join(', ')}); the test wants one`);
    const period = [...periods][0] as string;
    const quantity = format(milli, 3);
    truth.set(`${id}|base|${period}`, { quantity, amount: format(perUnitAmount(milli), 7) });
    truth.set(`${id}|tiered|${period}`, { quantity, amount: format(graduatedAmount(milli), 7) });
  }
  return truth;
}
