import { describe, expect, it } from 'vitest';
import { internalRecordSerde, isBinaryRecord } from '../../schemas/index.js';
import type { UsageByCustomer } from '../../processors/rating/usage-by-customer.js';
import { usageByCustomerSerde } from '../../processors/rating/usage-by-customer-serde.js';
import { openDetailCodec, periodTermsCodec, ratingCloseStateCodec } from '../../processors/rating/rating-store-codecs.js';

const customer = { id: 'acme-ñ', timezone: 'America/Los_Angeles', currency: 'USD', billingAnchor: '2024-01-31', plan: 'pro' };
const subscribed = {
  id: 'globex',
  timezone: 'Asia/Tokyo',
  currency: 'JPY',
  billingAnchor: '2024-02-29',
  subscriptions: [{ plan: 'basic', from: '2024-01-01T00:00:00Z' }, { plan: 'pro', from: '2024-03-01T00:00:00+09:00' }],
  cancelledAt: '2024-06-01T00:00:00Z',
  entitlements: [{ key: 'tokens', meter: 'tokens', limit: '1000000.5', alerts: [80, 100] }],
};
const window = { windowStartMs: 1_704_067_200_000, windowEndMs: 1_704_067_260_000 };

const cases: readonly (readonly [string, UsageByCustomer])[] = [
  ['a SUM add, huge and negative', { meter: 'tokens', aggregation: 'SUM', subject: 'acme-prod', groupBy: {}, ...window, change: { add: '-123456789012345678901234567890.000000001' }, customer }],
  ['a COUNT add with group-by values', { meter: 'api', aggregation: 'COUNT', subject: 'sujet-日本', groupBy: { model: 'gpt-ñ', route: '' }, ...window, change: { add: '3' }, customer: subscribed }],
  ['a UNIQUE_COUNT merge', { meter: 'users', aggregation: 'UNIQUE_COUNT', subject: 's', groupBy: {}, ...window, change: { merge: ['', 'u-1', '🙂'] }, customer }],
  ['a MAX merge', { meter: 'peak', aggregation: 'MAX', subject: 's', groupBy: {}, ...window, change: { merge: '4096.000000001' }, customer }],
  ['a LATEST merge', { meter: 'seats', aggregation: 'LATEST', subject: 's', groupBy: {}, ...window, change: { merge: { value: '12', timeMs: 1_704_067_201_000, offset: 17, id: 'évt' } }, customer }],
  ['a terms change', { kind: 'terms-change', customer: subscribed, changedAtMs: 1_704_067_200_123 }],
];

describe('usage-by-customer records in the binary form', () => {
  const binary = usageByCustomerSerde('binary');

  it.each(cases)('round-trips %s, field order included', (_name, value) => {
    const bytes = binary.serialize(value);
    expect(isBinaryRecord(bytes)).toBe(true);
    const decoded = binary.deserialize(bytes);
    expect(decoded).toEqual(value);
    expect(JSON.stringify(decoded)).toBe(JSON.stringify(value));
  });

  it.each(cases)('reads the legacy JSON of %s', (_name, value) => {
    expect(binary.deserialize(Buffer.from(JSON.stringify(value)))).toEqual(value);
    expect(usageByCustomerSerde('json').serialize(value).toString('utf8')).toBe(JSON.stringify(value));
  });

  it('writes a merge whose shape its aggregation does not expect as JSON, not as a wrong binary record', () => {
    const odd: UsageByCustomer = { meter: 'users', aggregation: 'UNIQUE_COUNT', subject: 's', groupBy: {}, ...window, change: { merge: 'not-an-array' }, customer };
    const bytes = binary.serialize(odd);
    expect(isBinaryRecord(bytes)).toBe(false);
    expect(binary.deserialize(bytes)).toEqual(odd);
  });
});

describe('rating store values in the binary form', () => {
  it('round-trip period terms, open-detail keys and the close state, and read their legacy JSON', () => {
    const samples = [
      [periodTermsCodec, { plan: 'pro', currency: 'USD', timezone: 'America/Los_Angeles' }],
      [openDetailCodec, 'acme|tokens|2024-01-31T00:00:00.000-08:00'],
      [ratingCloseStateCodec, { finalizedThroughMs: -1 }],
    ] as const;
    for (const [codec, value] of samples) {
      const serde = internalRecordSerde<unknown>(codec as never, 'binary');
      expect(serde.deserialize(serde.serialize(value))).toEqual(value);
      expect(serde.deserialize(Buffer.from(JSON.stringify(value)))).toEqual(value);
    }
  });
});
