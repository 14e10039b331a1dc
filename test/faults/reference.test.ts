/**
 * The reference and the comparison on their own, without a pipeline: the
 * fault scenarios are only as good as these, so each kind of wrong output
 * must be caught and named.
 */
import { describe, expect, it } from 'vitest';
import { compareOutputs, type ObservedOutputs, type OutputRecord } from './compare-outputs.js';
import { format } from '../kafka/rating-truth.js';
import { createWorkload, eventsOf, faultEntitlement, interleaveCopies, lateRecords, onTimeRecords, poisonRecords, type SentRecord } from './fault-inputs.js';
import { expectedOutcome, type Expected } from './reference.js';

const workload = createWorkload('reference', Date.parse('2024-03-10T12:00:00Z'));
const onTime = onTimeRecords(workload, { count: 200, seed: 1, idPrefix: 'ref' });
const poison = poisonRecords(workload, { idPrefix: 'ref', withRegistry: false, twins: eventsOf(onTime).slice(0, 2) });
const late = lateRecords(workload, { count: 5, seed: 2, idPrefix: 'ref-late' });
const sent: SentRecord[] = [...interleaveCopies(onTime, 3, 10, 3), ...poison, ...interleaveCopies(late, 2, 3, 4)];
const expected = expectedOutcome(sent, workload.customers);

const mismatchTexts = (want: Expected, observed: ObservedOutputs): string[] => compareOutputs(want, observed).map((m) => m.text);

let offset = 0;
const record = (key: string | null, value: unknown): OutputRecord => ({ key, value: value === null ? null : JSON.stringify(value), partition: 0, offset: offset++ });

/** An alert as the pipeline writes it under `key` (customer|entitlement|threshold|periodStart), with usage in thousandths. */
function alertValue(key: string, usageMilli: bigint): Record<string, unknown> {
  const [customerId, entitlement, threshold, periodStart] = key.split('|') as [string, string, string, string];
  return { customerId, entitlement, threshold: Number(threshold), limit: faultEntitlement.limit, usage: format(usageMilli, 3), periodStart, periodEnd: '', crossedAt: '' };
}

/** What a correct pipeline would have committed for `expected`. */
function perfectOutputs(want: Expected): ObservedOutputs {
  return {
    meters: [...want.meters].map(([key, { value, count }]) => record(key, { value, count, final: false })),
    billing: [...want.billing].map(([key, { quantity, amount }]) => record(key, { quantity, amount, status: 'provisional', revision: 1 })),
    invoices: [...want.invoices].map(([key, { lines, total }]) => record(key, { lines, total, status: 'draft', revision: 1 })),
    alerts: [...want.alerts].map(([key, { atLeastMilli }]) => record(key, alertValue(key, atLeastMilli))),
    late: [...want.late].map((name) => record(null, { reason: 'window-closed', meter: name.split('|')[0], event: { id: name.split('|')[1] } })),
    deadLetters: poison.map((p) => record(null, { reason: p.kind === 'poison' ? p.reason : '', message: '', key: Buffer.from(p.key).toString('base64'), value: p.value?.toString('base64') ?? null })),
  };
}

describe('the reference', () => {
  it('counts each (source, id) once, and neither late nor poisoned events, whatever their copies', () => {
    expect(expected.counts).toEqual({ eventsIn: 200 * 3 + poison.length + 5 * 2, duplicates: 200 * 2 + 5, late: 5, deadLettered: poison.length, alerts: expected.alerts.size });
    expect(expectedOutcome(onTime, workload.customers).meters).toEqual(expected.meters);
    // Every distinct event is counted by exactly one of api_requests and tokens.
    const counted = [...expected.meters].filter(([key]) => !key.startsWith('peak|')).reduce((n, [, m]) => n + m.count, 0);
    expect(counted).toBe(200);
    expect(expected.late.size).toBe(eventsOf(late).reduce((n, e) => n + (e.type === 'llm.tokens' ? 2 : 1), 0));
    expect(expected.deadLettersByReason['invalid-encoding']).toBe(7);
    expect(expected.billing.size).toBe(workload.customers.length * 2);
    expect(expected.invoices.size).toBe(workload.customers.length);
    for (const invoice of expected.invoices.values()) expect(invoice.lines.map((l) => l.charge)).toEqual(['base', 'tiered']);
  });

  it("expects each threshold of a customer's allowance its period total reaches, and none beyond", () => {
    const totals = [...expected.billing].filter(([key]) => key.split('|')[1] === 'base');
    expect(totals).toHaveLength(workload.customers.length);
    const wanted = totals.flatMap(([key, { quantity }]) => {
      const [customer, , periodStart] = key.split('|') as [string, string, string];
      return faultEntitlement.alerts.filter((percent) => Number(quantity) >= (1_000_000 * percent) / 100).map((percent) => `${customer}|tokens-monthly|${percent}|${periodStart}`);
    });
    expect([...expected.alerts.keys()].sort()).toEqual(wanted.sort());
    expect(wanted.length).toBeGreaterThan(0);
    expect(wanted.some((key) => key.includes('|100000|'))).toBe(false);
  });

  it('refuses a late storm whose lateness would depend on the processing order', () => {
    const tooRecent = lateRecords({ ...workload, lateFromMs: workload.fromMs - 30 * 60_000 }, { count: 3, seed: 5, idPrefix: 'recent' });
    expect(() => expectedOutcome([...onTime, ...tooRecent], workload.customers)).toThrow(/not past grace/);
    const first = onTime[0] as SentRecord & { kind: 'on-time' };
    expect(() => expectedOutcome([...onTime, { ...first, kind: 'late' }], workload.customers)).toThrow(/shares its identity/);
  });
});

describe('the comparison', () => {
  it('finds nothing wrong with exactly the expected outputs', () => {
    expect(mismatchTexts(expected, perfectOutputs(expected))).toEqual([]);
  });

  it('names a missing, a wrong, an extra and a replayed meter', () => {
    const outputs = perfectOutputs(expected);
    const [first, second, third] = outputs.meters as OutputRecord[];
    const meters = [...outputs.meters.slice(3), record(second?.key ?? '', { value: '1', count: 10_000, final: false }), record('tokens|nobody|{}|x', { value: '1', count: 1 })];
    meters.push(third as OutputRecord, record(third?.key ?? '', { ...JSON.parse(third?.value ?? '{}'), final: false }));
    const mismatches = mismatchTexts(expected, { ...outputs, meters });
    expect(mismatches).toEqual(
      expect.arrayContaining([
        expect.stringContaining(`meters: missing ${first?.key}`),
        expect.stringContaining(`meters: ${second?.key} is value 1, count 10000`),
        expect.stringContaining('meters: unexpected tokens|nobody|{}|x'),
        expect.stringContaining(`meters: ${third?.key} went from count`),
      ]),
    );
  });

  it('names a wrong amount and a skipped or repeated revision', () => {
    const outputs = perfectOutputs(expected);
    const [first] = outputs.billing as OutputRecord[];
    const detail = JSON.parse(first?.value ?? '{}') as Record<string, unknown>;
    const billing = [...outputs.billing, record(first?.key ?? '', { ...detail, amount: '0.01', revision: 3 })];
    const mismatches = mismatchTexts(expected, { ...outputs, billing });
    expect(mismatches).toEqual(expect.arrayContaining([expect.stringContaining('revision 3 after 1'), expect.stringContaining('amount 0.01')]));
  });

  it('names an invoice with a wrong total, a missing or extra line, a skipped revision and an unexpected invoice', () => {
    const outputs = perfectOutputs(expected);
    const [first, second, third] = outputs.invoices as OutputRecord[];
    const invoice = (r: OutputRecord | undefined) => JSON.parse(r?.value ?? '{}') as { lines: { charge: string }[]; total: string };
    const invoices = [
      ...outputs.invoices,
      record(first?.key ?? '', { ...invoice(first), total: '0.01', revision: 2 }),
      record(second?.key ?? '', { ...invoice(second), lines: invoice(second).lines.slice(1), revision: 3 }),
      record(third?.key ?? '', { ...invoice(third), status: 'final', revision: 2 }),
      record('nobody|2024-03-01T00:00:00.000Z', { lines: [], total: '0', status: 'draft', revision: 1 }),
    ];
    const mismatches = mismatchTexts(expected, { ...outputs, invoices });
    expect(mismatches).toHaveLength(5);
    expect(mismatches.join('\n')).toContain(`invoices: ${first?.key ?? ''} is total 0.01`);
    expect(mismatches.join('\n')).toContain(`invoices: ${second?.key ?? ''} revision 3 after 1`);
    expect(mismatches.join('\n')).toMatch(/invoices: .* is total .*, draft, lines tiered q=/);
    expect(mismatches.join('\n')).toMatch(/invoices: .* is total .*, final,/);
    expect(mismatches.join('\n')).toContain('invoices: unexpected nobody|2024-03-01T00:00:00.000Z');
  });

  it('names a late record twice, a dead letter with the wrong reason or bytes, and an unexpected dead letter', () => {
    const outputs = perfectOutputs(expected);
    const [firstLate] = outputs.late;
    const [truncatedJson, plainText, ...deadLetters] = outputs.deadLetters;
    const wrongReason = { ...(JSON.parse(truncatedJson?.value ?? '{}') as object), reason: 'too-large' };
    const wrongBytes = { ...(JSON.parse(plainText?.value ?? '{}') as object), value: 'AAAA' };
    const unrated = { reason: 'unrated', message: 'no customer owns subject x', key: Buffer.from('tokens|x|{}|w').toString('base64'), value: null };
    const mismatches = mismatchTexts(expected, {
      ...outputs,
      late: [...outputs.late, firstLate as OutputRecord],
      deadLetters: [record(null, wrongReason), record(null, wrongBytes), ...deadLetters, record(null, unrated)],
    });
    expect(mismatches).toHaveLength(4);
    expect(mismatches.join('\n')).toMatch(/late: .* appears 2 times/);
    expect(mismatches.join('\n')).toMatch(/reason too-large .* expected invalid-encoding/);
    expect(mismatches.join('\n')).toMatch(/does not carry the original bytes/);
    expect(mismatches.join('\n')).toMatch(/unexpected tokens\|x\|\{\}\|w ×1: .*unrated/);
  });

  it('tells output that may still arrive from output that is wrong for good', () => {
    const outputs = perfectOutputs(expected);
    const unrated = { reason: 'unrated', message: '', key: Buffer.from('tokens|x|{}|w').toString('base64'), value: null };
    const missingOnly = compareOutputs(expected, { ...outputs, meters: outputs.meters.slice(1), late: outputs.late.slice(1) });
    expect(missingOnly.map((m) => m.permanent)).toEqual([false, false]);
    const withExtra = compareOutputs(expected, { ...outputs, meters: outputs.meters.slice(1), deadLetters: [...outputs.deadLetters, record(null, unrated)] });
    expect(withExtra.map((m) => m.permanent)).toEqual([false, true]);
  });

  it('names a missing, a repeated and an unexpected alert, and one whose usage cannot be that of its crossing', () => {
    const outputs = perfectOutputs(expected);
    const [first, second, third] = outputs.alerts as OutputRecord[];
    const stranger = 'nobody|tokens-monthly|1|2024-03-01T00:00:00.000Z';
    const tooLow = record(third?.key ?? '', alertValue(third?.key ?? '', (expected.alerts.get(third?.key ?? '')?.atLeastMilli ?? 1n) - 1n));
    const alerts = [...outputs.alerts.slice(3), second as OutputRecord, second as OutputRecord, tooLow, record(stranger, alertValue(stranger, 10_000_000n))];
    expect(mismatchTexts(expected, { ...outputs, alerts })).toEqual([
      `alerts: ${first?.key} appears 0 times; expected once`,
      expect.stringMatching(new RegExp(`^alerts: ${(second?.key ?? '').replace(/[.+|]/g, '\\$&')} appears 2 times`)),
      expect.stringContaining(`alerts: ${third?.key}: usage`),
      expect.stringContaining(`alerts: unexpected ${stranger}`),
    ]);
  });
});
