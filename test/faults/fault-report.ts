/**
 * The suite's table: one row per scenario, printed after the run and written
 * to `.cache/fault-report.txt`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScenarioCounts } from './reference.js';

export interface ReportRow extends ScenarioCounts {
  readonly scenario: string;
  readonly mismatches: number;
  /** What was done to the pipeline, in a few words. */
  readonly faults: string;
}

export const reportFile = fileURLToPath(new URL('../../.cache/fault-report.txt', import.meta.url));

const columns: readonly [title: string, cell: (row: ReportRow) => string][] = [
  ['scenario', (r) => r.scenario],
  ['events in', (r) => String(r.eventsIn)],
  ['duplicates', (r) => String(r.duplicates)],
  ['late', (r) => String(r.late)],
  ['dead-lettered', (r) => String(r.deadLettered)],
  ['alerts', (r) => String(r.alerts)],
  ['mismatches', (r) => String(r.mismatches)],
  ['faults injected', (r) => r.faults],
];

/** A plain text table; numbers right-aligned, text left-aligned. */
export function formatTable(rows: readonly ReportRow[]): string {
  const cells = [columns.map(([title]) => title), ...rows.map((row) => columns.map(([, cell]) => cell(row)))];
  const widths = columns.map((_, c) => Math.max(...cells.map((line) => (line[c] as string).length)));
  const numeric = (c: number) => c > 0 && c < columns.length - 1;
  const render = (line: string[]) => line.map((text, c) => (numeric(c) ? text.padStart(widths[c] as number) : text.padEnd(widths[c] as number))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [render(cells[0] as string[]), rule, ...cells.slice(1).map(render)].join('\n');
}

export async function writeReport(rows: readonly ReportRow[]): Promise<string> {
  const table = formatTable(rows);
  await mkdir(dirname(reportFile), { recursive: true });
  await writeFile(reportFile, `Fault-injection suite (test/faults), ${new Date().toISOString()}\n\n${table}\n`);
  return table;
}
