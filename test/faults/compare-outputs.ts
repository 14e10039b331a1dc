/**
 * Compares what the pipeline committed with the reference, and lists every
 * difference in words (key, expected, got, where), so a failing scenario can
 * be debugged from its message alone:
 *
 * - `tally-meters`: the last record per key (compaction's view) equals the
 *   reference, every expected key present, no other key; a key's event count
 *   never goes back, and no update follows its final;
 * - `tally-billing-details`: the latest revision per key has the reference's
 *   quantity and amount; revisions run 1, 2, 3… with no repeat or gap;
 * - `tally-invoices`: the latest revision per key has the reference's lines
 *   (charge, quantity, amount), total and status; revisions as for details;
 * - `tally-alerts`: each expected alert exactly once (by customer,
 *   entitlement, threshold and period), its usage between threshold% × limit
 *   and the period's total; no other alert;
 * - `tally-late-events`: each expected late record once, reason `window-closed`;
 * - `tally-dead-letter`: each poison record once, with its reason and bytes.
 */
import type { BillingDetailRecord } from '../../schemas/billing-detail.js';
import type { AlertRecord } from '../../schemas/entitlement.js';
import type { InvoiceRecord } from '../../schemas/invoice.js';
import { toScaled } from '../kafka/rating-truth.js';
import type { DeadLetterRecord, LateEventRecord, MeterRecord } from '../../schemas/records.js';
import type { Expected } from './reference.js';
import { sha256 } from './reference.js';

export interface OutputRecord {
  readonly key: string | null;
  readonly value: string | null;
  readonly partition: number;
  readonly offset: number;
}

/** Records of each output topic, per partition in offset order. */
export interface ObservedOutputs {
  readonly meters: readonly OutputRecord[];
  readonly billing: readonly OutputRecord[];
  readonly invoices: readonly OutputRecord[];
  readonly alerts: readonly OutputRecord[];
  readonly late: readonly OutputRecord[];
  readonly deadLetters: readonly OutputRecord[];
}

export interface Mismatch {
  readonly text: string;
  /**
   * Committed output that nothing later can take back (a repeat, a count that
   * went back, a record that should not exist): waiting longer cannot fix it.
   * Otherwise the output may still be on its way (a missing or smaller value).
   */
  readonly permanent: boolean;
}

class Findings {
  readonly list: Mismatch[] = [];
  /** Output still missing or short: it may yet arrive. */
  pending(text: string): void {
    this.list.push({ text, permanent: false });
  }
  /** Output that is wrong for good. */
  wrong(text: string): void {
    this.list.push({ text, permanent: true });
  }
}

const at = (r: OutputRecord): string => `partition ${r.partition} offset ${r.offset}`;
const short = (text: string, max = 160): string => (text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text);

/** Last value per key, tombstones removing the key; `check(before, now, record)` sees every step. */
function latestByKey<T>(topic: string, records: readonly OutputRecord[], problems: Findings, check: (before: T | undefined, now: T, r: OutputRecord) => void): Map<string, T> {
  const latest = new Map<string, T>();
  for (const r of records) {
    if (r.key === null) {
      problems.wrong(`${topic}: a record without a key at ${at(r)}`);
    } else if (r.value === null) {
      latest.delete(r.key);
    } else {
      const value = JSON.parse(r.value) as T;
      check(latest.get(r.key), value, r);
      latest.set(r.key, value);
    }
  }
  return latest;
}

function compareMeters(expected: Expected, records: readonly OutputRecord[], problems: Findings): void {
  const latest = latestByKey<MeterRecord>('meters', records, problems, (before, now, r) => {
    if (before === undefined) return;
    const replayed = now.count < before.count || (now.count === before.count && !now.final) || (before.final && !now.final);
    if (replayed) problems.wrong(`meters: ${r.key} went from count ${before.count}${before.final ? ' (final)' : ''} to ${now.count}${now.final ? ' (final)' : ''} at ${at(r)}`);
  });
  for (const [key, want] of expected.meters) {
    const got = latest.get(key);
    if (got === undefined) problems.pending(`meters: missing ${key} (expected value ${want.value}, count ${want.count})`);
    else if (got.value !== want.value || got.count !== want.count) problems.pending(`meters: ${key} is value ${got.value}, count ${got.count}; expected value ${want.value}, count ${want.count}`);
  }
  for (const [key, got] of latest) if (!expected.meters.has(key)) problems.wrong(`meters: unexpected ${key} (value ${got.value}, count ${got.count})`);
}

/** Revisions of a key run 1, 2, 3…: anything else is a replayed or lost emission. */
function revisionsInOrder<T extends { readonly revision: number }>(topic: string, problems: Findings): (before: T | undefined, now: T, r: OutputRecord) => void {
  return (before, now, r) => {
    const wanted = (before?.revision ?? 0) + 1;
    if (now.revision !== wanted) problems.wrong(`${topic}: ${r.key} revision ${now.revision} after ${before?.revision ?? 'none'} at ${at(r)} (expected ${wanted})`);
  };
}

function compareBilling(expected: Expected, records: readonly OutputRecord[], problems: Findings): void {
  const latest = latestByKey<BillingDetailRecord>('billing', records, problems, revisionsInOrder('billing', problems));
  for (const [key, want] of expected.billing) {
    const got = latest.get(key);
    if (got === undefined) problems.pending(`billing: missing ${key} (expected quantity ${want.quantity}, amount ${want.amount})`);
    else if (got.quantity !== want.quantity || got.amount !== want.amount || got.status !== expected.billingStatus) {
      problems.pending(`billing: ${key} is quantity ${got.quantity}, amount ${got.amount}, ${got.status} (revision ${got.revision}); expected quantity ${want.quantity}, amount ${want.amount}, ${expected.billingStatus}`);
    }
  }
  for (const [key, got] of latest) if (!expected.billing.has(key)) problems.wrong(`billing: unexpected ${key} (quantity ${got.quantity}, amount ${got.amount})`);
}

function compareInvoices(expected: Expected, records: readonly OutputRecord[], problems: Findings): void {
  const latest = latestByKey<InvoiceRecord>('invoices', records, problems, revisionsInOrder('invoices', problems));
  const linesOf = (lines: readonly { charge: string; quantity: string; amount: string }[]) => lines.map((l) => `${l.charge} q=${l.quantity} a=${l.amount}`).join(', ');
  for (const [key, want] of expected.invoices) {
    const got = latest.get(key);
    if (got === undefined) problems.pending(`invoices: missing ${key} (expected total ${want.total})`);
    else if (got.total !== want.total || got.status !== expected.invoiceStatus || linesOf(got.lines) !== linesOf(want.lines)) {
      problems.pending(`invoices: ${key} is total ${got.total}, ${got.status}, lines ${linesOf(got.lines)} (revision ${got.revision}); expected total ${want.total}, ${expected.invoiceStatus}, lines ${linesOf(want.lines)}`);
    }
  }
  for (const [key, got] of latest) if (!expected.invoices.has(key)) problems.wrong(`invoices: unexpected ${key} (total ${got.total})`);
}

/** Groups records by a name; names seen once with the right content pass, the rest are listed. */
function compareOnce<T>(
  topic: string,
  records: readonly OutputRecord[],
  problems: Findings,
  nameOf: (value: T) => string,
  expectedNames: Iterable<string>,
  checkOne: (name: string, value: T) => string | undefined,
): void {
  const byName = new Map<string, { value: T; record: OutputRecord }[]>();
  for (const record of records) {
    const value = JSON.parse(record.value ?? 'null') as T;
    const name = nameOf(value);
    byName.set(name, [...(byName.get(name) ?? []), { value, record }]);
  }
  const expected = new Set(expectedNames);
  for (const name of expected) {
    const found = byName.get(name) ?? [];
    if (found.length === 0) problems.pending(`${topic}: ${name} appears 0 times; expected once`);
    if (found.length > 1) problems.wrong(`${topic}: ${name} appears ${found.length} times (${found.map((f) => at(f.record)).join('; ')}); expected once`);
    const wrong = found.length > 0 ? checkOne(name, (found[0] as { value: T }).value) : undefined;
    if (wrong !== undefined) problems.wrong(`${topic}: ${name}: ${wrong}`);
  }
  for (const [name, found] of byName) if (!expected.has(name)) problems.wrong(`${topic}: unexpected ${short(name)} ×${found.length}: ${short(found[0]?.record.value ?? 'null', 300)}`);
}

function compareAlerts(expected: Expected, records: readonly OutputRecord[], problems: Findings): void {
  const nameOf = (a: AlertRecord) => `${a.customerId}|${a.entitlement}|${a.threshold}|${a.periodStart}`;
  compareOnce<AlertRecord>('alerts', records, problems, nameOf, expected.alerts.keys(), (name, a) => {
    const want = expected.alerts.get(name);
    if (want === undefined) return undefined;
    const usageMilli = toScaled(a.usage, 3);
    return usageMilli < want.atLeastMilli || usageMilli > want.atMostMilli ? `usage ${a.usage} at the crossing is not between threshold% × limit and the period's total` : undefined;
  });
}

function compareLate(expected: Expected, records: readonly OutputRecord[], problems: Findings): void {
  compareOnce<LateEventRecord>('late', records, problems, (v) => `${v.meter}|${v.event.id}`, expected.late, (_name, v) => (v.reason === 'window-closed' ? undefined : `reason ${v.reason}; expected window-closed`));
}

function compareDeadLetters(expected: Expected, records: readonly OutputRecord[], problems: Findings): void {
  const inputKey = (d: DeadLetterRecord) => (d.key === null ? '(no key)' : Buffer.from(d.key, 'base64').toString('utf8'));
  compareOnce<DeadLetterRecord>('dead-letter', records, problems, inputKey, expected.deadLetters.keys(), (key, d) => {
    const want = expected.deadLetters.get(key);
    if (want === undefined) return undefined;
    // A dead letter too large for its topic carries a cut copy plus the original's size and SHA-256 (hex).
    const valueSha = d.valueTruncated === true ? (d.valueSha256 ?? 'missing') : sha256(d.value === null ? null : Buffer.from(d.value, 'base64'));
    if (d.reason !== want.reason) return `${want.label}: reason ${d.reason} (${short(d.message)}); expected ${want.reason}`;
    if (valueSha !== want.valueSha) return `${want.label}: the dead letter does not carry the original bytes${d.valueTruncated === true ? ' (nor their SHA-256)' : ''}`;
    return undefined;
  });
}

/** Every difference between the outputs and the reference; empty when they agree exactly. */
export function compareOutputs(expected: Expected, observed: ObservedOutputs): Mismatch[] {
  const problems = new Findings();
  compareMeters(expected, observed.meters, problems);
  compareBilling(expected, observed.billing, problems);
  compareInvoices(expected, observed.invoices, problems);
  compareAlerts(expected, observed.alerts, problems);
  compareLate(expected, observed.late, problems);
  compareDeadLetters(expected, observed.deadLetters, problems);
  return problems.list;
}

/**
 * How many mismatches per output topic, then up to `limit` of them, one per
 * line, taken from each topic in turn: a few billing differences are not
 * hidden behind many meter ones.
 */
export function describeMismatches(mismatches: readonly Mismatch[], limit = 25): string {
  const perTopic = new Map<string, string[]>();
  for (const { text } of mismatches) {
    const topic = text.slice(0, text.indexOf(':'));
    perTopic.set(topic, [...(perTopic.get(topic) ?? []), text]);
  }
  const summary = [...perTopic].map(([topic, texts]) => `${topic} ${texts.length}`).join(', ');
  const shown: string[] = [];
  for (let i = 0; shown.length < Math.min(limit, mismatches.length); i++) for (const texts of perTopic.values()) if (i < texts.length && shown.length < limit) shown.push(texts[i] as string);
  const more = mismatches.length > limit ? `\n… and ${mismatches.length - limit} more` : '';
  return `${mismatches.length} mismatch(es) (${summary}):\n${shown.join('\n')}${more}`;
}
