/**
 * A Tally query result as OpenMeter's `MeterQueryResult`: instants in
 * RFC 3339 without zero milliseconds (`2024-01-01T10:00:00Z`), `value` as a
 * JSON number (what OpenMeter's clients read) and `valueDecimal` with the
 * exact decimal string it came from (a number may lose digits).
 */
import type { MeterQueryResult } from '../../processors/query/index.js';

export interface OpenMeterRow {
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly subject: string | null;
  readonly customerId?: string;
  readonly groupBy: Readonly<Record<string, string>>;
  readonly value: number;
  readonly valueDecimal: string;
}

export interface OpenMeterResult {
  readonly from: string;
  readonly to: string;
  readonly windowSize?: string;
  readonly data: readonly OpenMeterRow[];
}

/** `2024-01-01T10:00:00.000Z` → `2024-01-01T10:00:00Z`; other milliseconds stay. */
export function rfc3339(iso: string): string {
  return iso.replace(/\.000Z$/, 'Z');
}

export function toOpenMeterResult(result: MeterQueryResult): OpenMeterResult {
  return {
    from: rfc3339(result.from),
    to: rfc3339(result.to),
    ...(result.windowSize === null ? {} : { windowSize: result.windowSize }),
    data: result.data.map((row) => ({
      windowStart: rfc3339(row.windowStart),
      windowEnd: rfc3339(row.windowEnd),
      subject: row.subject,
      ...(row.customerId === undefined ? {} : { customerId: row.customerId }),
      groupBy: row.groupBy,
      value: Number(row.value),
      valueDecimal: row.value,
    })),
  };
}
