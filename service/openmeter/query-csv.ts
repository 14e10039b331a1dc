/**
 * A query result as CSV, written the way OpenMeter writes it (`Accept:
 * text/csv`): a header `window_start,window_end[,subject][,<group-by
 * keys>…],value`, one line per row, instants in RFC 3339, the value with six
 * decimals (Go's `%f`), fields quoted as Go's encoding/csv quotes them, `\n`
 * line ends, served as `text/csv` with `Content-Disposition: attachment;
 * filename=<meter>.csv`. The subject column is there when rows are split by
 * subject; `customer_id` comes with the group-by keys when rows are split by
 * customer.
 */
import { Decimal } from 'decimal.js';
import type { MeterQueryResult } from '../../processors/query/index.js';
import type { RouteResponse } from '../http/router.js';

export interface CsvColumns {
  /** A subject column (rows split by subject). */
  readonly subject: boolean;
  /** Group-by columns in this order; `customer_id` is the row's customer. */
  readonly groupBy: readonly string[];
}

export function meterQueryCsv(result: MeterQueryResult, columns: CsvColumns): string {
  const header = ['window_start', 'window_end', ...(columns.subject ? ['subject'] : []), ...columns.groupBy, 'value'];
  const lines = [header];
  for (const row of result.data) {
    lines.push([
      goRfc3339(row.windowStart),
      goRfc3339(row.windowEnd),
      ...(columns.subject ? [row.subject ?? ''] : []),
      ...columns.groupBy.map((key) => (key === 'customer_id' ? (row.customerId ?? '') : (row.groupBy[key] ?? ''))),
      new Decimal(row.value).toFixed(6),
    ]);
  }
  return lines.map((fields) => fields.map(csvField).join(',')).join('\n') + '\n';
}

export function csvResponse(meter: string, csv: string): RouteResponse {
  return { status: 200, text: csv, contentType: 'text/csv', headers: { 'Content-Disposition': `attachment; filename=${meter}.csv` } };
}

/** Whether the client asked for CSV: `text/csv` in Accept, ahead of any JSON type. */
export function acceptsCsv(accept: string | undefined): boolean {
  const types = (accept ?? '').split(',').map((part) => (part.split(';')[0] ?? '').trim().toLowerCase());
  const csvAt = types.indexOf('text/csv');
  const jsonAt = types.findIndex((type) => type === 'application/json' || type === '*/*');
  return csvAt >= 0 && (jsonAt < 0 || csvAt < jsonAt);
}

/** Go's time.RFC3339: seconds, no fraction. */
function goRfc3339(iso: string): string {
  return iso.replace(/\.\d+Z$/, 'Z');
}

/** Go's csv.Writer: quote a field with a comma, quote, CR or LF, or a leading space; double the quotes. */
function csvField(field: string): string {
  if (field === '' || !(/[",\r\n]/.test(field) || field.startsWith(' '))) return field;
  return `"${field.replace(/"/g, '""')}"`;
}
