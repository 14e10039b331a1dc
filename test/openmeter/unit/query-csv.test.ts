/** CSV written the way OpenMeter's Go server writes it, and the Accept header that asks for it. */
import { describe, expect, it } from 'vitest';
import type { MeterQueryResult } from '../../../processors/query/index.js';
import { acceptsCsv, meterQueryCsv } from '../../../service/openmeter/query-csv.js';

const result = (rows: Partial<MeterQueryResult['data'][number]>[]): MeterQueryResult => ({
  meter: 'requests',
  from: '2024-01-01T00:00:00.000Z',
  to: '2024-01-02T00:00:00.000Z',
  windowSize: 'DAY',
  windowTimeZone: 'UTC',
  data: rows.map((row) => ({ windowStart: '2024-01-01T00:00:00.000Z', windowEnd: '2024-01-02T00:00:00.000Z', subject: null, groupBy: {}, value: '0', ...row })),
});

describe('meterQueryCsv', () => {
  it('writes window_start, window_end and value, instants without milliseconds, values with six decimals', () => {
    expect(meterQueryCsv(result([{ value: '2.5' }, { value: '123456789012345678901234.1234567' }]), { subject: false, groupBy: [] })).toBe(
      'window_start,window_end,value\n2024-01-01T00:00:00Z,2024-01-02T00:00:00Z,2.500000\n2024-01-01T00:00:00Z,2024-01-02T00:00:00Z,123456789012345678901234.123457\n',
    );
  });

  it('adds the subject column, then group-by columns in the order given, customer_id from the row', () => {
    const csv = meterQueryCsv(result([{ subject: 'acme-prod', customerId: 'acme', groupBy: { route: '/a', method: 'GET' }, value: '3' }]), { subject: true, groupBy: ['route', 'method', 'customer_id'] });
    expect(csv).toBe('window_start,window_end,subject,route,method,customer_id,value\n2024-01-01T00:00:00Z,2024-01-02T00:00:00Z,acme-prod,/a,GET,acme,3.000000\n');
  });

  it('quotes fields as Go\'s encoding/csv does: commas, quotes, line breaks, a leading space', () => {
    const csv = meterQueryCsv(result([{ groupBy: { route: 'a,b' } }, { groupBy: { route: 'say "hi"' } }, { groupBy: { route: 'two\nlines' } }, { groupBy: { route: ' padded' } }, { groupBy: {} }]), { subject: false, groupBy: ['route'] });
    const day = '2024-01-01T00:00:00Z,2024-01-02T00:00:00Z';
    expect(csv).toBe(
      'window_start,window_end,route,value\n' +
        `${day},"a,b",0.000000\n` +
        `${day},"say ""hi""",0.000000\n` +
        `${day},"two\nlines",0.000000\n` +
        `${day}," padded",0.000000\n` +
        `${day},,0.000000\n`,
    );
  });
});

describe('acceptsCsv', () => {
  it('is true for text/csv ahead of JSON, false otherwise', () => {
    expect(acceptsCsv('text/csv')).toBe(true);
    expect(acceptsCsv('text/csv, application/json;q=0.5')).toBe(true);
    expect(acceptsCsv('application/json, text/csv')).toBe(false);
    expect(acceptsCsv('application/json')).toBe(false);
    expect(acceptsCsv('*/*')).toBe(false);
    expect(acceptsCsv(undefined)).toBe(false);
  });
});
