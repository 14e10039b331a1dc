import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { BillingDetailRecord } from '../../schemas/billing-detail.js';
import { runReplay, type ReplayIo } from '../../cli/commands/replay.js';
import { parseReplayArgs } from '../../cli/commands/replay-args.js';

const fixtures = fileURLToPath(new URL('../fixtures/replay-billing/', import.meta.url));
const config = join(fixtures, 'tally.yaml');
const events = join(fixtures, 'events.jsonl');
const now = '2024-02-21T09:00:00Z';

interface OutputLine {
  readonly topic: string;
  readonly key: string | null;
  readonly value: Record<string, unknown>;
}

async function replay(args: readonly string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  const stderr: string[] = [];
  const io: ReplayIo = { write: (text) => void (stdout += text), error: (line) => void stderr.push(line) };
  const status = await runReplay(parseReplayArgs(args), io);
  return { status, stdout, stderr: stderr.join('\n') };
}

const lines = (stdout: string): OutputLine[] => stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as OutputLine);
const billing = (output: OutputLine[]) => output.filter((line) => line.topic === 'billing').map((line) => ({ key: line.key, value: line.value as unknown as BillingDetailRecord }));

describe('tally replay with rating', () => {
  // Golden output, checked by hand:
  // - tata (Asia/Kolkata, INR): 00:29Z is 05:59 local → 100 × 0.02 = 2; 00:30Z is 06:00 local → 200 × 0.03 = 6; total 8.
  // - acme (Los Angeles, anchor 21): 06:05Z is Feb 20 22:05 local → period Jan 21–Feb 21 (-08:00); 5 + 1000 × 0.001 = 6.
  //   12 work units → tier 1: 10 × 10 + 2 = 102, tier 2: 2 × 5 + 3 = 13 → 115.
  //   08:30Z is Feb 21 00:30 local → the next period (ends Mar 21 -07:00, after DST): 5 + 0.5 = 5.5.
  //   07:59Z (late, within PT1H) is Feb 20 23:59 local → the first period again: 1250 → 6.25, revision 2.
  // - kaisha (Asia/Tokyo, JPY): 100 + 5 × 0.5 = 102.5 → 103 (half-up to whole yen).
  // - "nobody" owns no customer → dead letter, reason unrated.
  // - --now 09:00Z = Feb 21 08:00Z + PT1H: acme's first period turns final (revisions 3 and 2); nothing else does.
  // - Invoices, one per customer and period, revised with every change of a line: acme's first period
  //   6 → 6 + 115 = 121 → 6.25 + 115 = 121.25 (draft r1–r3), then final r4 once both lines are final.
  it('prints meters, billing details and unrated dead letters exactly as the golden file', async () => {
    const { status, stdout, stderr } = await replay(['--config', config, '--input', events, '--now', now]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toBe(await readFile(join(fixtures, 'expected.jsonl'), 'utf8'));
  });

  it('keys billing records customer|charge|periodStart and writes the billing detail value of docs/rating.md', async () => {
    const details = billing(lines((await replay(['--config', config, '--input', events, '--now', now])).stdout));
    const first = details.find((d) => d.key === 'acme|work|2024-01-21T00:00:00.000-08:00');
    expect(Object.keys(first?.value ?? {})).toEqual([
      'detailId', 'customerId', 'plan', 'charge', 'meter', 'periodStart', 'periodEnd', 'billingPeriodStart', 'billingPeriodEnd', 'timezone', 'currency', 'quantity', 'amount', 'lines', 'status', 'revision',
    ]);
    expect(first?.value).toMatchObject({ customerId: 'acme', plan: 'pro', meter: 'work_units', periodEnd: '2024-02-21T00:00:00.000-08:00', quantity: '12', amount: '115', status: 'provisional', revision: 1 });
    expect(first?.value.detailId).toMatch(/^[0-9a-f]{32}$/);
    expect(details.filter((d) => d.key === first?.key).map((d) => `${d.value.status} r${d.value.revision}`)).toEqual(['provisional r1', 'final r2']);
  });

  it('coalesces billing records per commit with --commit-every, ending in the same details', async () => {
    const each = billing(lines((await replay(['--config', config, '--input', events, '--now', now])).stdout));
    const coalesced = billing(lines((await replay(['--config', config, '--input', events, '--now', now, '--commit-every', '100'])).stdout));
    const latest = (records: typeof each) => Object.fromEntries(records.map((r) => [r.key, { ...r.value, revision: 0 }]));
    expect(latest(coalesced)).toEqual(latest(each));
    expect(coalesced.length).toBeLessThan(each.length);
    // Revisions still go up by one per record of a detail.
    const revisions = new Map<string, number[]>();
    for (const record of coalesced) revisions.set(record.key as string, [...(revisions.get(record.key as string) ?? []), record.value.revision]);
    for (const list of revisions.values()) expect(list).toEqual(list.map((_, index) => index + 1));
  });

  it('coalesces invoices per commit the same way: fewer records, the same latest invoices, revisions 1, 2, 3…', async () => {
    const invoices = (stdout: string) => lines(stdout).filter((line) => line.topic === 'invoices');
    const each = invoices((await replay(['--config', config, '--input', events, '--now', now])).stdout);
    const coalesced = invoices((await replay(['--config', config, '--input', events, '--now', now, '--commit-every', '100'])).stdout);
    const latest = (records: OutputLine[]) => Object.fromEntries(records.map((r) => [r.key, { ...r.value, revision: 0 }]));
    expect(latest(coalesced)).toEqual(latest(each));
    expect(coalesced.length).toBeLessThan(each.length);
    const revisions = new Map<string, number[]>();
    for (const record of coalesced) revisions.set(record.key as string, [...(revisions.get(record.key as string) ?? []), record.value['revision'] as number]);
    for (const list of revisions.values()) expect(list).toEqual(list.map((_, index) => index + 1));
  });

  it('prints one invoice per customer and billing period, keyed customer|billingPeriodStart, with its lines and exact total', async () => {
    const output = lines((await replay(['--config', config, '--input', events, '--now', now])).stdout).filter((line) => line.topic === 'invoices');
    const acme = output.filter((line) => line.key === 'acme|2024-01-21T00:00:00.000-08:00').map((line) => line.value);
    expect(acme.map((v) => `${String(v['total'])} ${String(v['status'])} r${String(v['revision'])}`)).toEqual(['6 draft r1', '121 draft r2', '121.25 draft r3', '121.25 final r4']);
    expect(Object.keys(acme[3] ?? {})).toEqual(['invoiceId', 'customerId', 'periodStart', 'periodEnd', 'timezone', 'currency', 'lines', 'total', 'status', 'revision']);
    expect(acme[3]?.['lines']).toEqual([
      { charge: 'base', plan: 'pro', periodStart: '2024-01-21T00:00:00.000-08:00', periodEnd: '2024-02-21T00:00:00.000-08:00', quantity: '1250', amount: '6.25', status: 'final' },
      { charge: 'work', plan: 'pro', periodStart: '2024-01-21T00:00:00.000-08:00', periodEnd: '2024-02-21T00:00:00.000-08:00', quantity: '12', amount: '115', status: 'final' },
    ]);
    expect(new Set(output.map((line) => line.key))).toEqual(new Set(['tata|2024-02-01T00:00:00.000+05:30', 'acme|2024-01-21T00:00:00.000-08:00', 'kaisha|2024-02-01T00:00:00.000+09:00', 'acme|2024-02-21T00:00:00.000-08:00']));
  });

  it('is deterministic: the same input and --now give the same bytes', async () => {
    const first = await replay(['--config', config, '--input', events, '--now', now]);
    const second = await replay(['--config', config, '--input', events, '--now', now]);
    expect(second.stdout).toBe(first.stdout);
  });
});
