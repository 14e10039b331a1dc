/**
 * Invoices: one per customer and billing period, kept in `rating-invoices`
 * (key `customer|billingPeriodStart`) and emitted when that store's cache
 * flushes — the same coalescing as billing details, so an invoice is
 * emitted at most once per commit, with one revision per emitted change.
 *
 * Rating calls `record` with every billing detail it writes; the ledger
 * replaces that detail's line and recomputes the total and the status. A
 * detail that has never had usage has no line (and a period with none has no
 * invoice).
 */
import type { BillingDetailRecord } from '../../schemas/billing-detail.js';
import type { InvoiceLine, InvoiceRecord } from '../../schemas/invoice.js';
import type { KeyValueStore } from '../../state/index.js';
import { emitOnFlush } from '../cache-flushes.js';
import { detailIdOf } from './billing-details.js';
import { FlushRevisions } from './flush-revisions.js';
import { sumLines } from './models/money.js';

/** Value in `rating-invoices`. */
export interface InvoiceState {
  readonly invoice: InvoiceRecord;
  /** Detail key of each line, in the order of `invoice.lines`. */
  readonly lineKeys: readonly string[];
  /** End of the billing period, epoch ms (the emitted record's timestamp is the instant before it). */
  readonly periodEndMs: number;
}

/** `customer|billingPeriodStart`: the topic key and the store key. */
export function invoiceKey(customerId: string, billingPeriodStart: string): string {
  return `${customerId}|${billingPeriodStart}`;
}

function lineOf(detail: BillingDetailRecord): InvoiceLine {
  const { charge, plan, periodStart, periodEnd, quantity, amount, status } = detail;
  return { charge, plan, periodStart, periodEnd, quantity, amount, status };
}

/** Segment start (as an instant), then charge key. */
function lineOrder(left: InvoiceLine, right: InvoiceLine): number {
  const byStart = left.periodStart === right.periodStart ? 0 : Date.parse(left.periodStart) - Date.parse(right.periodStart);
  if (byStart !== 0) return byStart;
  return left.charge < right.charge ? -1 : left.charge > right.charge ? 1 : 0;
}

const lineFields = ['charge', 'plan', 'periodStart', 'periodEnd', 'quantity', 'amount', 'status'] as const;
const invoiceFields = ['invoiceId', 'customerId', 'periodStart', 'periodEnd', 'timezone', 'currency', 'total', 'status'] as const;

/** True when the two invoices say the same but for their revision (compared field by field: this runs for every detail written). */
function sameInvoiceContent(left: Omit<InvoiceRecord, 'revision'>, right: Omit<InvoiceRecord, 'revision'>): boolean {
  if (invoiceFields.some((field) => left[field] !== right[field]) || left.lines.length !== right.lines.length) return false;
  return left.lines.every((line, index) => lineFields.every((field) => line[field] === (right.lines[index] as InvoiceLine)[field]));
}

export class InvoiceLedger {
  readonly #store: KeyValueStore<InvoiceState>;
  readonly #revisions = new FlushRevisions();

  /** `emit` receives each invoice whose revision changed, at the flush of `store` (which must be cached). */
  constructor(store: KeyValueStore<InvoiceState>, storeName: string, emit: (key: string, invoice: InvoiceRecord, timestampMs: number) => void) {
    this.#store = store;
    emitOnFlush(store, storeName, 'invoices', (entry) => {
      this.#revisions.flushed(entry.key);
      const next = entry.newValue;
      if (next === undefined || next.invoice.revision === entry.oldValue?.invoice.revision) return;
      emit(entry.key, next.invoice, next.periodEndMs - 1);
    });
  }

  /** Puts `detail` (stored under `detailKey`) on its period's invoice. */
  record(detailKey: string, detail: BillingDetailRecord, timestampMs: number): void {
    const key = invoiceKey(detail.customerId, detail.billingPeriodStart);
    const previous = this.#store.get(key);
    const { lines, lineKeys } = withLine(previous, detailKey, lineOf(detail));
    const content = {
      invoiceId: detailIdOf(key),
      customerId: detail.customerId,
      periodStart: detail.billingPeriodStart,
      periodEnd: detail.billingPeriodEnd,
      timezone: detail.timezone,
      currency: detail.currency,
      lines,
      total: sumLines(lines),
      status: lines.every((line) => line.status === 'final') ? ('final' as const) : ('draft' as const),
    };
    if (previous !== undefined && sameInvoiceContent(previous.invoice, content)) return;
    const invoice: InvoiceRecord = { ...content, revision: this.#revisions.next(key, previous?.invoice.revision) };
    this.#store.put(key, { invoice, lineKeys, periodEndMs: previous?.periodEndMs ?? Date.parse(detail.billingPeriodEnd) }, timestampMs);
  }
}

/**
 * The invoice's lines with `line` written under `detailKey`. A detail
 * already on the invoice keeps its place: its key names its charge and
 * segment start, which are what order the lines. A new one is added and
 * the lines ordered again.
 */
function withLine(previous: InvoiceState | undefined, detailKey: string, line: InvoiceLine): { lines: InvoiceLine[]; lineKeys: readonly string[] } {
  const at = previous === undefined ? -1 : previous.lineKeys.indexOf(detailKey);
  if (previous !== undefined && at >= 0) {
    const lines = previous.invoice.lines.slice();
    lines[at] = line;
    return { lines, lineKeys: previous.lineKeys };
  }
  const ordered: [string, InvoiceLine][] = previous === undefined ? [] : previous.lineKeys.map((lineKey, index) => [lineKey, previous.invoice.lines[index] as InvoiceLine]);
  ordered.push([detailKey, line]);
  ordered.sort(([, left], [, right]) => lineOrder(left, right));
  return { lines: ordered.map(([, orderedLine]) => orderedLine), lineKeys: ordered.map(([lineKey]) => lineKey) };
}
