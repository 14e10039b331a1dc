import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BillingDetailRecord } from '../../schemas/billing-detail.js';
import type { InvoiceRecord } from '../../schemas/invoice.js';
import type { DeadLetterRecord } from '../../schemas/records.js';
import { runReplay, type ReplayIo } from '../../cli/commands/replay.js';
import { parseReplayArgs } from '../../cli/commands/replay-args.js';

const config = fileURLToPath(new URL('../fixtures/billing-lifecycle.yaml', import.meta.url));
const event = (id: string, time: string, data: Record<string, unknown>) => JSON.stringify({ specversion: '1.0', id, source: 'app', type: 'llm.tokens', subject: 'pst-1', time, data });

// pst (Los Angeles, anchor day 20): the period 2024-02-20T00:00-08:00 to 2024-03-20T00:00-07:00 is 29 days less the
// DST hour, 695 h. basic runs from 2024-02-21T06:00Z (Feb 20 22:00 local) to pro's start, 2024-03-05T00:00-08:00:
// 314 h, so its flat fee 10 is 10 × 314 / 695 = 4.5179856…; pro runs until the cancellation, 2024-03-10T12:00Z.
const lines = [
  event('before', '2024-02-21T05:59:00Z', { model: 'gpt-4', kind: 'input', tokens: 7 }), // before the first subscription: unrated
  event('b1', '2024-02-25T10:00:00Z', { model: 'gpt-4', kind: 'input', tokens: 1000 }), // basic: 4.5179856… + 0.02 → 4.54
  event('p1', '2024-03-06T10:00:00Z', { model: 'gpt-4', kind: 'input', tokens: 1000 }), // pro gpt4-in: 0.03
  event('p2', '2024-03-06T10:01:00Z', { model: 'mini', tokens: 2_000_000 }), // pro small: 1,000,000 free, 1,000,000 × 0.0000002 = 0.2
  event('p3', '2024-03-06T10:02:00Z', { model: 'gpt-4', kind: 'output', tokens: 5000 }), // no pro charge prices gpt-4 output
  event('after', '2024-03-10T12:00:00Z', { model: 'mini', tokens: 9 }), // at the cancellation: unrated
];

let dir = '';
let output: { topic: string; key: string; value: unknown }[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tally-replay-lifecycle-'));
  await writeFile(join(dir, 'events.jsonl'), `${lines.join('\n')}\n`);
  let stdout = '';
  const io: ReplayIo = { write: (text) => void (stdout += text), error: (line) => void (stdout += `ERROR ${line}\n`) };
  // --now is cancelledAt + allowedLateness (PT1H): every detail of the cancelled period is final.
  const status = await runReplay(parseReplayArgs(['--config', config, '--input', join(dir, 'events.jsonl'), '--now', '2024-03-10T13:00:00Z']), io);
  expect(status).toBe(0);
  output = stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { topic: string; key: string; value: unknown });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const latest = <T>(topic: string): Map<string, T> => new Map(output.filter((o) => o.topic === topic).map((o) => [o.key, o.value as T]));

describe('tally replay over a changing, cancelled subscription with dimensional prices', () => {
  it('bills each segment on its plan, prorates the flat fee, applies the filters and finalizes at the cancellation', () => {
    const details = [...latest<BillingDetailRecord>('billing').values()].map((d) => `${d.plan} ${d.charge} ${d.periodStart}..${d.periodEnd} q=${d.quantity} a=${d.amount} ${d.status}`);
    expect(details.sort()).toEqual([
      'basic tokens 2024-02-20T22:00:00.000-08:00..2024-03-05T00:00:00.000-08:00 q=1000 a=4.54 final',
      'pro gpt4-in 2024-03-05T00:00:00.000-08:00..2024-03-10T05:00:00.000-07:00 q=1000 a=0.03 final',
      'pro small 2024-03-05T00:00:00.000-08:00..2024-03-10T05:00:00.000-07:00 q=2000000 a=0.2 final',
    ]);
  });

  it('dead-letters usage before the first subscription and at the cancellation as unrated', () => {
    const dead = output.filter((o) => o.topic === 'dead-letter').map((o) => o.value as DeadLetterRecord);
    expect(dead.map((d) => [d.reason, d.timestamp])).toEqual([
      ['unrated', '2024-02-21T05:59:59.999Z'],
      ['unrated', '2024-03-10T12:00:59.999Z'],
    ]);
  });

  it('ends with one final invoice for the period: three lines and their exact total', () => {
    const invoices = latest<InvoiceRecord>('invoices');
    expect([...invoices.keys()]).toEqual(['pst|2024-02-20T00:00:00.000-08:00']);
    const invoice = invoices.get('pst|2024-02-20T00:00:00.000-08:00');
    expect(invoice).toMatchObject({ periodStart: '2024-02-20T00:00:00.000-08:00', periodEnd: '2024-03-20T00:00:00.000-07:00', total: '4.77', status: 'final' });
    expect(invoice?.lines.map((l) => `${l.plan}:${l.charge}:${l.amount}`)).toEqual(['basic:tokens:4.54', 'pro:gpt4-in:0.03', 'pro:small:0.2']);
  });
});
