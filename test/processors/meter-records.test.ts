import { describe, expect, it } from 'vitest';
import { canonicalGroupBy, meterStoreKey } from '../../processors/meter-keys.js';
import { compileMeterPlans, readGroupBy, readGroupByJson } from '../../processors/meter-plan.js';
import { meterRecordJson } from '../../processors/meter-records.js';
import type { MeterRecord } from '../../schemas/records.js';

const plans = compileMeterPlans([
  { slug: 'api_requests', eventType: 'api.request', aggregation: 'COUNT', groupBy: { route: '$.route', '10': '$.a', '9': '$.b' } },
  { slug: 'tokens-used', eventType: 'llm.tokens', aggregation: 'SUM', valueProperty: '$.tokens', groupBy: {} },
  { slug: 'seats', eventType: 'seats.set', aggregation: 'LATEST', valueProperty: '$.seats', groupBy: {} },
]);
const planOf = (slug: string) => plans.all.find((plan) => plan.slug === slug) as (typeof plans.all)[number];
const minute = 60_000;
const start = Date.UTC(2026, 11, 6, 21, 0);

/** What the topic carried before: the record object through JSON.stringify. */
function viaObject(slug: string, subject: string, groupBy: Record<string, string>, value: string, count: number, final: boolean): string {
  const plan = planOf(slug);
  const record: MeterRecord = {
    meter: slug,
    subject,
    groupBy,
    windowStart: new Date(start).toISOString(),
    windowEnd: new Date(start + minute).toISOString(),
    aggregation: plan.aggregationName,
    value,
    count,
    final,
  };
  return JSON.stringify(record);
}

describe('meter record JSON', () => {
  const cases: { slug: string; subject: string; groupBy: Record<string, string>; acc: unknown; value: string; count: number; final: boolean }[] = [
    { slug: 'api_requests', subject: 'customer-1', groupBy: { route: '/a' }, acc: 3, value: '3', count: 3, final: false },
    // Quotes, backslashes, control and non-ASCII characters in subject and group values; integer-like group names.
    { slug: 'api_requests', subject: 'a "b" \\ c\n\u0001 日本 😀', groupBy: { route: '/x"y\\z', '10': '', '9': 'é' }, acc: 1, value: '1', count: 1, final: true },
    { slug: 'tokens-used', subject: 's', groupBy: {}, acc: '-12345678901234567890.000000001', value: '-12345678901234567890.000000001', count: 2, final: false },
    { slug: 'seats', subject: 's', groupBy: {}, acc: { value: '7.5', timeMs: start, offset: 4, id: 'e' }, value: '7.5', count: 9, final: true },
    { slug: 'seats', subject: 's', groupBy: {}, acc: null, value: '0', count: 0, final: false },
  ];

  it('is byte for byte the JSON of the record object, built from the store key', () => {
    for (const { slug, subject, groupBy, acc, value, count, final } of cases) {
      const json = meterRecordJson(planOf(slug), meterStoreKey(subject, groupBy), start, minute, { acc, count }, final);
      expect(json).toBe(viaObject(slug, subject, groupBy, value, count, final));
      expect(JSON.parse(json)).toMatchObject({ subject, groupBy, value, count, final });
    }
  });
});

describe('group-by JSON read straight from the event', () => {
  it('equals the canonical JSON of the group-by object, names in object order (integer-like first)', () => {
    const plan = planOf('api_requests');
    const events: Record<string, unknown>[] = [
      { route: '/a', a: 1.50, b: true },
      { route: 'x"\\y', a: { nested: [1, 2] }, b: null },
      {},
      { route: '日本', a: 1e21, b: 'z' },
    ];
    for (const data of events) expect(readGroupByJson(plan, data)).toBe(canonicalGroupBy(readGroupBy(plan, data)));
    expect(readGroupByJson(planOf('seats'), { seats: 3 })).toBe('{}');
    expect(readGroupByJson(plan, { route: '/a', a: 2, b: 3 })).toBe('{"9":"3","10":"2","route":"/a"}');
  });
});
