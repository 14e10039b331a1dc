/**
 * One compact line per output record, for people watching the demo:
 *
 *   meter    tokens        acme-prod  -                 12:03–12:04      1,250
 *   billing  acme   base      2024-11-15..2024-12-15  USD      6.25  provisional, rev 3
 *   invoice  acme   2 lines   2024-11-15..2024-12-15  USD     12.50  draft, rev 4
 *   alert    acme   tokens-monthly  100% of 8,000 reached: 8,310 at 12:02 (period 2024-11-15..2024-12-15)
 *   late     tokens        acme-prod  tok-late at 11:50:12  window 11:50–11:51 closed at 12:04:33
 *   dead-letter  invalid-encoding  usage-events[0]@17  the value is not JSON …
 *
 * Times are UTC. Decimals keep every digit; money is padded to the
 * currency's minor unit.
 */
import { Decimal } from 'decimal.js';
import type { BillingDetailRecord } from '../../schemas/billing-detail.js';
import type { AlertRecord } from '../../schemas/entitlement.js';
import type { InvoiceRecord } from '../../schemas/invoice.js';
import { currencyMinorUnits } from '../../schemas/currencies.js';
import type { DeadLetterRecord, LateEventRecord, MeterRecord } from '../../schemas/records.js';

/** `1234567.5` → `1,234,567.5`; with `minorUnits`, padded or rounded (half-up) to that many decimals. */
export function formatNumber(value: string, minorUnits?: number): string {
  const decimal = new Decimal(value);
  const text = minorUnits === undefined ? decimal.toFixed() : decimal.toFixed(minorUnits, Decimal.ROUND_HALF_UP);
  const [whole = '', fraction] = text.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

export function formatMoney(currency: string, amount: string): string {
  return `${currency} ${formatNumber(amount, currencyMinorUnits(currency) ?? 2)}`;
}

const clock = (iso: string): string => iso.slice(11, 16);
const clockSeconds = (iso: string): string => iso.slice(11, 19);
const date = (iso: string): string => iso.slice(0, 10);

function groupLabel(groupBy: Readonly<Record<string, string>>): string {
  const entries = Object.entries(groupBy);
  return entries.length === 0 ? '-' : entries.map(([k, v]) => `${k}=${v}`).join(',');
}

export function meterLine(record: MeterRecord): string {
  const window = `${clock(record.windowStart)}–${clock(record.windowEnd)}`;
  const final = record.final ? '  final' : '';
  return `meter    ${record.meter.padEnd(12)}  ${record.subject.padEnd(9)}  ${groupLabel(record.groupBy).padEnd(20)}  ${window}  ${formatNumber(record.value).padStart(8)}${final}`;
}

export function billingLine(record: BillingDetailRecord): string {
  const period = `${date(record.periodStart)}..${date(record.periodEnd)}`;
  return `billing  ${record.customerId.padEnd(5)}  ${record.charge.padEnd(8)}  ${period}  ${formatMoney(record.currency, record.amount).padStart(13)}  ${record.status}, rev ${record.revision}`;
}

export function invoiceLine(record: InvoiceRecord): string {
  const period = `${date(record.periodStart)}..${date(record.periodEnd)}`;
  const lines = `${record.lines.length} line${record.lines.length === 1 ? '' : 's'}`;
  return `invoice  ${record.customerId.padEnd(5)}  ${lines.padEnd(8)}  ${period}  ${formatMoney(record.currency, record.total).padStart(13)}  ${record.status}, rev ${record.revision}`;
}

export function alertLine(record: AlertRecord): string {
  const period = `${date(record.periodStart)}..${date(record.periodEnd)}`;
  return `alert    ${record.customerId.padEnd(5)}  ${record.entitlement}  ${record.threshold}% of ${formatNumber(record.limit)} reached: ${formatNumber(record.usage)} at ${clock(record.crossedAt)} (period ${period})`;
}

export function lateLine(record: LateEventRecord): string {
  return `late     ${record.meter.padEnd(12)}  ${record.subject.padEnd(9)}  ${record.event.id} at ${clockSeconds(record.event.time)}  window ${clock(record.windowStart)}–${clock(record.windowEnd)} closed at ${clockSeconds(record.closedAt)}`;
}

export function deadLetterLine(record: DeadLetterRecord): string {
  const message = record.message.length > 90 ? `${record.message.slice(0, 87)}...` : record.message;
  return `dead-letter  ${record.reason}  ${record.topic}[${record.partition}]@${record.offset}  ${message}`;
}
