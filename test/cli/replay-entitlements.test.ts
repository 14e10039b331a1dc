import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { AlertRecord, EntitlementRecord } from '../../schemas/entitlement.js';
import { runReplay } from '../../cli/commands/replay.js';
import { parseReplayArgs } from '../../cli/commands/replay-args.js';

const fixtures = fileURLToPath(new URL('../fixtures/replay-entitlements/', import.meta.url));
const args = ['--config', join(fixtures, 'tally.yaml'), '--input', join(fixtures, 'events.jsonl'), '--now', '2024-03-01T02:00:00Z'];

interface Line<V> {
  readonly topic: string;
  readonly key: string;
  readonly value: V;
}

async function replayLines(): Promise<Line<unknown>[]> {
  let stdout = '';
  const errors: string[] = [];
  const status = await runReplay(parseReplayArgs(args), { write: (text) => void (stdout += text), error: (line) => void errors.push(line) });
  expect(errors).toEqual([]);
  expect(status).toBe(0);
  return stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Line<unknown>);
}

const onTopic = <V>(lines: Line<unknown>[], topic: string): Line<V>[] => lines.filter((line) => line.topic === topic) as Line<V>[];

describe('tally replay with entitlements', () => {
  // Checked by hand (acme, UTC, periods from the 1st; tokens-monthly 1000 at 50/100 %, gpt4 100 at 100 %, users 2 at 100 %):
  // 10:00 400 mini → 400; 10:01 150 gpt-4 → 550 (50 %) and gpt4 150 (100 %); its duplicate adds nothing;
  // 10:02 500 mini → 1050 (100 %); users ann, ann again (no change), bob → 2 (100 % at 10:05);
  // March 1 00:00 600 mini → the March period starts over at 600 (50 % again, in March).
  it('prints each alert once, keyed customer|entitlement|threshold|billingPeriodStart, with the usage at the crossing', async () => {
    const alerts = onTopic<AlertRecord>(await replayLines(), 'alerts');
    expect(alerts.map((a) => `${a.key} u=${a.value.usage} at ${a.value.crossedAt}`)).toEqual([
      'acme|tokens-monthly|50|2024-02-01T00:00:00.000Z u=550 at 2024-02-10T10:01:00.000Z',
      'acme|gpt4|100|2024-02-01T00:00:00.000Z u=150 at 2024-02-10T10:01:00.000Z',
      'acme|tokens-monthly|100|2024-02-01T00:00:00.000Z u=1050 at 2024-02-10T10:02:00.000Z',
      'acme|users|100|2024-02-01T00:00:00.000Z u=2 at 2024-02-10T10:05:00.000Z',
      'acme|tokens-monthly|50|2024-03-01T00:00:00.000Z u=600 at 2024-03-01T00:00:00.000Z',
    ]);
    expect(Object.keys(alerts[0]?.value ?? {})).toEqual(['customerId', 'entitlement', 'threshold', 'limit', 'usage', 'periodStart', 'periodEnd', 'crossedAt']);
  });

  it('prints every revision of each entitlement, keyed customer|entitlement|billingPeriodStart', async () => {
    const records = onTopic<EntitlementRecord>(await replayLines(), 'entitlements');
    expect(records.map((e) => `${e.key} u=${e.value.usage} rem=${e.value.remaining} over=${e.value.overage} ${String(e.value.hasAccess)} r${e.value.revision}`)).toEqual([
      'acme|tokens-monthly|2024-02-01T00:00:00.000Z u=400 rem=600 over=0 true r1',
      'acme|tokens-monthly|2024-02-01T00:00:00.000Z u=550 rem=450 over=0 true r2',
      'acme|gpt4|2024-02-01T00:00:00.000Z u=150 rem=0 over=50 false r1',
      'acme|tokens-monthly|2024-02-01T00:00:00.000Z u=1050 rem=0 over=50 false r3',
      'acme|users|2024-02-01T00:00:00.000Z u=1 rem=1 over=0 true r1',
      'acme|users|2024-02-01T00:00:00.000Z u=2 rem=0 over=0 false r2',
      'acme|tokens-monthly|2024-03-01T00:00:00.000Z u=600 rem=400 over=0 true r1',
    ]);
    expect(records[0]?.value).toEqual({
      customerId: 'acme',
      entitlement: 'tokens-monthly',
      meter: 'tokens',
      periodStart: '2024-02-01T00:00:00.000Z',
      periodEnd: '2024-03-01T00:00:00.000Z',
      limit: '1000',
      usage: '400',
      remaining: '600',
      overage: '0',
      hasAccess: true,
      revision: 1,
    });
  });
});
