/**
 * What the demo expects the pipeline to make of its sample stream, whether
 * the outputs have got there, and the closing summary: per customer the
 * events counted, meter totals and the billed amount, then duplicates, late
 * events and dead letters — read from the outputs and checked against what
 * was sent.
 */
import { Decimal } from 'decimal.js';
import { billingPeriodAt, detailKey } from '../../processors/rating/index.js';
import type { TallyConfig } from '../../schemas/config-types.js';
import type { DemoOutputs } from './demo-outputs.js';
import type { DemoStream } from './demo-stream.js';
import { formatMoney, formatNumber } from './demo-format.js';

export interface DemoExpectation {
  /** Billing quantity per detail key (`customer|charge|periodStart`), computed from the events sent. */
  readonly billingQuantities: ReadonlyMap<string, string>;
  /** Alerts the usage sent must raise: thresholds reached, over every entitlement and period. */
  readonly alerts: number;
}

interface Check {
  readonly what: string;
  readonly found: string;
  readonly expected: string;
}

/** What one event adds to a quantity of `meter` (COUNT and SUM add up, MAX keeps the largest). */
function accumulate(before: Decimal | undefined, event: DemoStream['counted'][number], meter: TallyConfig['meters'][number]): Decimal {
  // The demo's value paths are all `$.<field>`.
  const value = meter.valueProperty === undefined ? new Decimal(1) : new Decimal(String(event.data[meter.valueProperty.replace(/^\$\./, '')]));
  return before === undefined ? value : meter.aggregation === 'MAX' ? Decimal.max(before, value) : before.plus(value);
}

/**
 * Rating's quantities and the entitlements' alerts, worked out independently
 * from the events the demo sent (each counted once). The demo's entitlements
 * have no filter.
 */
export function expectDemoOutcome(stream: DemoStream, config: TallyConfig): DemoExpectation {
  const customerOf = new Map(config.customers.flatMap((c) => c.subjects.map((s) => [s, c] as const)));
  const quantities = new Map<string, Decimal>();
  const usage = new Map<string, { usage: Decimal; limit: string; alerts: readonly number[] }>();
  const sizeMs = config.windows.sizeMs;
  for (const event of stream.counted) {
    const customer = customerOf.get(event.subject);
    const plan = config.plans.find((p) => p.key === customer?.plan);
    if (customer === undefined || plan === undefined) continue;
    // Rating files a window's usage under the period that holds the window's start.
    const windowStartMs = Math.floor(Date.parse(event.time) / sizeMs) * sizeMs;
    const period = billingPeriodAt(windowStartMs, customer.timezone, customer.billingAnchor);
    const meterOf = (slug: string) => config.meters.find((m) => m.slug === slug && m.eventType === event.type);
    for (const charge of plan.charges) {
      const meter = meterOf(charge.meter);
      const key = detailKey(customer.id, charge.key, period.start);
      if (meter !== undefined) quantities.set(key, accumulate(quantities.get(key), event, meter));
    }
    for (const entitlement of customer.entitlements ?? []) {
      const meter = meterOf(entitlement.meter);
      const key = `${customer.id}|${entitlement.key}|${period.start}`;
      if (meter !== undefined) usage.set(key, { usage: accumulate(usage.get(key)?.usage, event, meter), limit: entitlement.limit, alerts: entitlement.alerts });
    }
  }
  const reached = (u: { usage: Decimal; limit: string; alerts: readonly number[] }) => u.alerts.filter((percent) => u.usage.times(100).gte(new Decimal(u.limit).times(percent))).length;
  return { billingQuantities: new Map([...quantities].map(([k, v]) => [k, v.toFixed()])), alerts: [...usage.values()].reduce((n, u) => n + reached(u), 0) };
}

function countedEvents(outputs: DemoOutputs, subjects?: ReadonlySet<string>): number {
  let total = 0;
  for (const record of outputs.meters.values()) if (subjects === undefined || subjects.has(record.subject)) total += record.count;
  return total;
}

function reasonCounts(reasons: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const reason of reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([reason, n]) => `${reason} ${n}`).join(', ');
}

function sentReasons(stream: DemoStream): string[] {
  return [...stream.deadLetters].flatMap(([reason, n]) => Array<string>(n).fill(reason));
}

function billingMatches(outputs: DemoOutputs, expectation: DemoExpectation): number {
  let matching = 0;
  for (const [key, quantity] of expectation.billingQuantities) {
    const detail = [...outputs.billing.values()].find((d) => detailKey(d.customerId, d.charge, d.periodStart) === key);
    if (detail !== undefined && new Decimal(detail.quantity).equals(quantity)) matching++;
  }
  return matching;
}

/** Invoices whose total is the sum of the latest billing details of their customer and period, and how many periods have details. */
function invoicesAddingUp(outputs: DemoOutputs): { readonly matching: number; readonly periods: number } {
  const sums = new Map<string, Decimal>();
  for (const d of outputs.billing.values()) {
    const key = `${d.customerId}|${d.billingPeriodStart}`;
    sums.set(key, (sums.get(key) ?? new Decimal(0)).plus(d.amount));
  }
  let matching = 0;
  for (const [key, sum] of sums) {
    const total = outputs.invoices.get(key)?.total;
    if (total !== undefined && sum.equals(total)) matching++;
  }
  return { matching, periods: sums.size };
}

/** The demo's checks: each found in the outputs, each expected from what was sent. */
function checks(outputs: DemoOutputs, stream: DemoStream, expectation: DemoExpectation): Check[] {
  const counted = countedEvents(outputs);
  const dropped = stream.records - outputs.deadLetters.length - outputs.late.length - counted;
  const expectedDetails = expectation.billingQuantities.size;
  const invoices = invoicesAddingUp(outputs);
  return [
    { what: 'events counted by the meters', found: String(counted), expected: String(stream.counted.length) },
    { what: 'duplicates dropped', found: String(dropped), expected: String(stream.duplicates) },
    { what: 'late events', found: String(outputs.late.length), expected: String(stream.late) },
    { what: 'dead letters', found: reasonCounts(outputs.deadLetters.map((d) => d.reason)) || '0', expected: reasonCounts(sentReasons(stream)) || '0' },
    { what: 'billing details matching the usage sent', found: `${billingMatches(outputs, expectation)} of ${outputs.billing.size}`, expected: `${expectedDetails} of ${expectedDetails}` },
    { what: 'invoices adding up to their billing details', found: `${invoices.matching} of ${outputs.invoices.size}`, expected: `${invoices.periods} of ${invoices.periods}` },
    { what: 'usage alerts, one per threshold reached', found: String(outputs.alerts.length), expected: String(expectation.alerts) },
  ];
}

/** True once every output the stream should produce is there (and nothing more). */
export function outputsSettled(outputs: DemoOutputs, stream: DemoStream, expectation: DemoExpectation): boolean {
  return checks(outputs, stream, expectation).every((c) => c.found === c.expected);
}

/** Meter totals per customer over everything in the outputs: COUNT and SUM add up, MAX takes the largest. */
function meterTotals(outputs: DemoOutputs, config: TallyConfig, subjects: ReadonlySet<string>): string[] {
  return config.meters.map((meter) => {
    let total: Decimal | undefined;
    for (const record of outputs.meters.values()) {
      if (record.meter !== meter.slug || !subjects.has(record.subject)) continue;
      const value = new Decimal(record.value);
      total = total === undefined ? value : meter.aggregation === 'MAX' ? Decimal.max(total, value) : total.plus(value);
    }
    return total === undefined ? '-' : formatNumber(total.toFixed());
  });
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, column) => (column === 0 || column === 1 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  ').trimEnd());
}

/** The summary lines, and whether every check passed. */
export function demoSummary(outputs: DemoOutputs, stream: DemoStream, expectation: DemoExpectation, config: TallyConfig): { readonly lines: string[]; readonly ok: boolean } {
  const header = ['customer', 'zone', 'events', ...config.meters.map((m) => (m.aggregation === 'MAX' ? `${m.slug} (max)` : m.slug)), 'billed so far', 'invoice'];
  const rows = config.customers.map((customer) => {
    const subjects = new Set(customer.subjects);
    const details = [...outputs.billing.values()].filter((d) => d.customerId === customer.id);
    const billed = details.reduce((sum, d) => sum.plus(d.amount), new Decimal(0));
    const invoice = [...outputs.invoices.values()].filter((i) => i.customerId === customer.id).sort((a, b) => Date.parse(b.periodStart) - Date.parse(a.periodStart))[0];
    const invoiced = invoice === undefined ? '-' : `${formatMoney(invoice.currency, invoice.total)} ${invoice.status} r${invoice.revision}`;
    return [customer.id, customer.timezone, formatNumber(String(countedEvents(outputs, subjects))), ...meterTotals(outputs, config, subjects), formatMoney(customer.currency, billed.toFixed()), invoiced];
  });
  const results = checks(outputs, stream, expectation);
  const sentMalformed = sentReasons(stream).length;
  const width = Math.max(...results.map((c) => c.what.length));
  const lines = [
    '',
    'Summary (read from the output topics)',
    ...table([header, ...rows]).map((line) => `  ${line}`),
    '',
    `  sent: ${stream.records} records = ${stream.counted.length} events + ${stream.duplicates} duplicates + ${stream.late} late + ${sentMalformed} malformed (${reasonCounts(sentReasons(stream))})`,
    ...results.map((c) => `  ${c.found === c.expected ? 'ok      ' : 'MISMATCH'}  ${c.what.padEnd(width)}  ${c.found}${c.found === c.expected ? '' : ` (expected ${c.expected})`}`),
  ];
  return { lines, ok: results.every((c) => c.found === c.expected) };
}
