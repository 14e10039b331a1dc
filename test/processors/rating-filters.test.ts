import { afterEach, describe, expect, it } from 'vitest';
import type { BillingDetailRecord } from '../../schemas/billing-detail.js';
import type { ChargeConfig, MeterConfig } from '../../schemas/config-types.js';
import { closeTracked, ratingConfig, startTracked, usage } from './rating-harness.js';

afterEach(closeTracked);

const brief = (d: BillingDetailRecord): string => `${d.charge} q=${d.quantity} a=${d.amount}`;
const meters: MeterConfig[] = [
  { slug: 'tokens', eventType: 'llm.tokens', aggregation: 'SUM', valueProperty: '$.tokens', groupBy: { model: '$.model', kind: '$.kind' } },
  { slug: 'peak', eventType: 'peak.gauge', aggregation: 'MAX', valueProperty: '$.value', groupBy: { region: '$.region' } },
  { slug: 'users', eventType: 'user.seen', aggregation: 'UNIQUE_COUNT', valueProperty: '$.user', groupBy: { region: '$.region' } },
];
const tokens = (time: string, data: Record<string, unknown>) => usage('llm.tokens', 'acme-prod', time, data);

describe('dimensional prices (charge filters)', () => {
  it('price only matching usage: every entry must match, a list matches any of its values, a missing group-by value matches nothing', async () => {
    const charges: ChargeConfig[] = [
      { key: 'gpt4-in', meter: 'tokens', model: 'per_unit', unitPrice: '0.5', filter: { model: 'gpt-4', kind: 'input' } },
      { key: 'small', meter: 'tokens', model: 'graduated', filter: { model: ['mini', 'haiku'] }, tiers: [{ upTo: 10, unitPrice: '1' }, { unitPrice: '0.1' }] },
      { key: 'all', meter: 'tokens', model: 'per_unit', unitPrice: '0.01' },
    ];
    const h = await startTracked(ratingConfig({ meters, plans: [{ key: 'pro', charges }] }));
    await h.pipe(
      tokens('2024-02-10T10:00:00Z', { model: 'gpt-4', kind: 'input', tokens: 100 }),
      tokens('2024-02-10T10:00:00Z', { model: 'gpt-4', kind: 'output', tokens: 1000 }),
      tokens('2024-02-10T10:00:00Z', { model: 'mini', kind: 'input', tokens: 10 }),
      tokens('2024-02-10T10:00:00Z', { model: 'haiku', tokens: 5 }),
      tokens('2024-02-10T10:00:00Z', { kind: 'input', tokens: 7 }), // no model: only the unfiltered charge
    );
    const last = new Map(h.billing().map((d) => [d.charge, d]));
    expect([...last.values()].map(brief).sort()).toEqual(['all q=1122 a=11.22', 'gpt4-in q=100 a=50', 'small q=15 a=10.5']);
  });

  it('filter MAX and UNIQUE_COUNT charges the same way, over the matching usage only', async () => {
    const charges: ChargeConfig[] = [
      { key: 'peak-eu', meter: 'peak', model: 'per_unit', unitPrice: '1', filter: { region: 'eu' } },
      { key: 'users-us', meter: 'users', model: 'per_unit', unitPrice: '2', filter: { region: ['us-east', 'us-west'] } },
    ];
    const h = await startTracked(ratingConfig({ meters, plans: [{ key: 'pro', charges }] }));
    const at = '2024-02-10T10:00:00Z';
    await h.pipe(
      usage('peak.gauge', 'acme-prod', at, { region: 'eu', value: 3 }),
      usage('peak.gauge', 'acme-prod', at, { region: 'us-east', value: 9 }),
      usage('user.seen', 'acme-prod', at, { region: 'us-east', user: 'ann' }),
      usage('user.seen', 'acme-prod', at, { region: 'us-west', user: 'ann' }),
      usage('user.seen', 'acme-prod', at, { region: 'us-west', user: 'bob' }),
      usage('user.seen', 'acme-prod', at, { region: 'eu', user: 'cid' }),
    );
    const last = new Map(h.billing().map((d) => [d.charge, d]));
    expect([...last.values()].map(brief).sort()).toEqual(['peak-eu q=3 a=3', 'users-us q=2 a=4']);
  });
});
