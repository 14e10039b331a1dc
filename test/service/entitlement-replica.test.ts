/**
 * The HTTP front's entitlement replica, fed by hand as the committed-store
 * feed would feed it: it answers only customers whose task it holds, as the
 * pipeline answers from the same states (usage, terms over config, unknown
 * customers, deletes), forgets a stopped task, and answers the internal
 * reads of held tasks only.
 */
import { describe, expect, it } from 'vitest';
import { currentEntitlements, entitlementKey, entitlementStoreNames, entitlementTermsKey, type EntitlementState, type EntitlementTerms } from '../../processors/index.js';
import type { EntitlementConfig } from '../../schemas/index.js';
import { TaskId, partitionForKey } from '../../topology/index.js';
import { EntitlementReplica, replicaWrites } from '../../service/queries/entitlement-replica.js';

const nowMs = Date.parse('2026-12-15T12:00:00Z');
const periodStart = '2026-12-01T00:00:00.000Z';
const tokens: EntitlementConfig = { key: 'tokens', meter: 'tokens', limit: '100', alerts: [80] };
const configured = new Map([
  ['acme', { timezone: 'UTC', billingAnchor: '2024-01-01', entitlements: [tokens] }],
  ['bolt', { timezone: 'UTC', billingAnchor: '2024-01-01', entitlements: [tokens] }],
]);
const taskCount = 4;
const taskOf = (customerId: string): string => new TaskId(3, partitionForKey(Buffer.from(customerId, 'utf8'), taskCount)).key;

function state(customerId: string, usage: number, limit = '100', start = periodStart, end = '2027-01-01T00:00:00.000Z'): EntitlementState {
  const left = Number(limit) - usage;
  return {
    usage: { total: String(usage) },
    record: { customerId, entitlement: 'tokens', meter: 'tokens', periodStart: start, periodEnd: end, limit, usage: String(usage), remaining: String(Math.max(0, left)), overage: String(Math.max(0, -left)), hasAccess: left > 0, revision: usage },
    alerted: [],
    timestampMs: nowMs - 1_000,
    timezone: 'UTC',
    billingAnchor: '2024-01-01',
  } as unknown as EntitlementState;
}

const usageWrite = (customerId: string, value: EntitlementState | undefined, start = periodStart) => ({ store: entitlementStoreNames.usage, key: entitlementKey(customerId, 'tokens', start), value });
const termsWrite = (terms: EntitlementTerms) => ({ store: entitlementStoreNames.terms, key: entitlementTermsKey(terms.customerId), value: terms });

function replica(): EntitlementReplica {
  return new EntitlementReplica((id) => configured.get(id));
}

describe('the entitlement replica', () => {
  it('answers nothing before a task starts, and nothing for a customer whose task it does not hold', () => {
    const r = replica();
    expect(r.answer('acme', nowMs)).toBeUndefined();
    r.apply({ kind: 'started', taskId: taskOf('acme'), taskCount, writes: [usageWrite('acme', state('acme', 60))] });
    const elsewhere = ['bolt', 'cust-1', 'cust-2', 'cust-3', 'cust-4'].find((id) => taskOf(id) !== taskOf('acme')) as string;
    expect(r.answer(elsewhere, nowMs)).toBeUndefined();
  });

  it('answers a held customer as the pipeline does from the same states and terms', () => {
    const r = replica();
    const acme = state('acme', 60);
    r.apply({ kind: 'started', taskId: taskOf('acme'), taskCount, writes: [usageWrite('acme', acme)] });
    expect(r.answer('acme', nowMs)).toEqual({ customerId: 'acme', entitlements: currentEntitlements('acme', [acme], configured.get('acme'), nowMs) });
    expect(r.answer('acme', nowMs)?.entitlements[0]).toMatchObject({ usage: '60', remaining: '40', hasAccess: true });
  });

  it('applies each commit: a new usage, a terms row that overrides the config, a delete', () => {
    const r = replica();
    const taskId = taskOf('acme');
    r.apply({ kind: 'started', taskId, taskCount, writes: [] });
    expect(r.answer('acme', nowMs)?.entitlements[0]).toMatchObject({ usage: '0', revision: 0 });
    r.apply({ kind: 'committed', taskId, writes: [usageWrite('acme', state('acme', 120))] });
    expect(r.answer('acme', nowMs)?.entitlements[0]).toMatchObject({ usage: '120', overage: '20', hasAccess: false });
    // The customers topic gave acme another allowance: its current period is read by the terms' keys.
    r.apply({ kind: 'committed', taskId, writes: [termsWrite({ customerId: 'acme', entitlements: [{ ...tokens, limit: '500' }], timezone: 'UTC', billingAnchor: '2024-01-01' }), usageWrite('acme', state('acme', 120, '500'))] });
    expect(r.answer('acme', nowMs)?.entitlements[0]).toMatchObject({ limit: '500', usage: '120', hasAccess: true });
    r.apply({ kind: 'committed', taskId, writes: [usageWrite('acme', undefined)] });
    expect(r.answer('acme', nowMs)?.entitlements[0]).toMatchObject({ limit: '500', usage: '0', revision: 0 });
  });

  it('throws the pipeline’s 404 for a held customer nobody knows, and answers one known from stored usage alone', () => {
    const r = replica();
    const stranger = ['zed-1', 'zed-2', 'zed-3', 'zed-4', 'zed-5', 'zed-6'].find((id) => taskOf(id) === taskOf('acme')) as string;
    r.apply({ kind: 'started', taskId: taskOf('acme'), taskCount, writes: [] });
    expect(() => r.answer(stranger, nowMs)).toThrow(/is unknown: it is not in the config, not on the customers topic/);
    r.apply({ kind: 'committed', taskId: taskOf('acme'), writes: [usageWrite(stranger, state(stranger, 5))] });
    expect(r.answer(stranger, nowMs)?.entitlements.map((e) => [e.entitlement, e.usage])).toEqual([['tokens', '5']]);
  });

  it('forgets a stopped task, ignores a commit told after the stop, and starts afresh from the contents told next', () => {
    const r = replica();
    const taskId = taskOf('acme');
    r.apply({ kind: 'started', taskId, taskCount, writes: [usageWrite('acme', state('acme', 60))] });
    r.apply({ kind: 'stopped', taskId });
    expect(r.answer('acme', nowMs)).toBeUndefined();
    r.apply({ kind: 'committed', taskId, writes: [usageWrite('acme', state('acme', 99))] });
    expect(r.taskIds).toEqual([]);
    r.apply({ kind: 'started', taskId, taskCount, writes: [usageWrite('acme', state('acme', 70))] });
    expect(r.answer('acme', nowMs)?.entitlements[0]?.usage).toBe('70');
  });

  it('answers the internal reads only for tasks it holds, each customer its own entries in key order', () => {
    const r = replica();
    const taskId = taskOf('acme');
    const other = ['acme1', 'acme2', 'acme3', 'acme4', 'acme5', 'acme6', 'acme7'].find((id) => taskOf(id) === taskId) as string;
    const older = state('acme', 30, '100', '2026-11-01T00:00:00.000Z', periodStart);
    const terms: EntitlementTerms = { customerId: 'acme', entitlements: [tokens], timezone: 'UTC', billingAnchor: '2024-01-01' };
    r.apply({ kind: 'started', taskId, taskCount, writes: [usageWrite('acme', state('acme', 60)), usageWrite('acme', older, '2026-11-01T00:00:00.000Z'), usageWrite(other, state(other, 1)), termsWrite(terms)] });
    expect(r.statesIn([taskId], 'acme')?.map((s) => s.record.periodStart)).toEqual(['2026-11-01T00:00:00.000Z', periodStart]);
    expect(r.termsIn([taskId], 'acme')).toEqual([terms]);
    expect(r.termsIn([taskId], other)).toEqual([]);
    const notHeld = new TaskId(3, (TaskId.parse(taskId).partition + 1) % taskCount).key;
    expect(r.statesIn([taskId, notHeld], 'acme')).toBeUndefined();
    expect(r.statesIn([], 'acme')).toBeUndefined();
  });

  it('keeps the two latest periods of each entitlement, and no usage values or alerts', () => {
    const r = replica();
    const taskId = taskOf('acme');
    const months = ['2026-09', '2026-10', '2026-11', '2026-12'].map((m) => `${m}-01T00:00:00.000Z`);
    const ends = [...months.slice(1), '2027-01-01T00:00:00.000Z'];
    r.apply({ kind: 'started', taskId, taskCount, writes: [] });
    // Written out of order, as late events may: the two latest stay, whichever came last.
    for (const index of [2, 0, 3, 1]) {
      const start = months[index] as string;
      r.apply({ kind: 'committed', taskId, writes: replicaWrites([usageWrite('acme', state('acme', 10 + index, '100', start, ends[index]), start)]) });
    }
    const kept = r.statesIn([taskId], 'acme') ?? [];
    expect(kept.map((s) => s.record.periodStart)).toEqual(months.slice(2));
    expect(kept.every((s) => Object.keys(s).sort().join() === 'billingAnchor,record,timezone')).toBe(true);
    expect(r.answer('acme', nowMs)?.entitlements[0]?.usage).toBe('13');
    // Terms rows pass as they are.
    const terms: EntitlementTerms = { customerId: 'acme', entitlements: [tokens], timezone: 'UTC', billingAnchor: '2024-01-01' };
    expect(replicaWrites([termsWrite(terms)])).toEqual([termsWrite(terms)]);
  });
});
