import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../schemas/config.js';
import { parseCustomerRecord } from '../../schemas/customer-record.js';
import { problemsAfter, readFixture, validConfig } from './config-helpers.js';

const subscribed = (extra: Record<string, unknown> = {}) => (config: Record<string, any>): void => {
  const { plan: _plan, ...customer } = config['customers'][0];
  config['customers'][0] = { ...customer, subscriptions: [{ plan: 'pro', from: '2024-02-21T06:00:00Z' }], ...extra };
};

describe('the billing lifecycle example (billing-lifecycle.yaml)', () => {
  it('reads subscriptions, the cancellation and charge filters as written', () => {
    const config = parseConfig(readFixture('billing-lifecycle.yaml'));
    expect(config.customers[0]).toEqual({
      id: 'pst',
      subjects: ['pst-1'],
      timezone: 'America/Los_Angeles',
      currency: 'USD',
      billingAnchor: '2024-02-20',
      subscriptions: [
        { plan: 'basic', from: '2024-02-21T06:00:00Z' },
        { plan: 'pro', from: '2024-03-05T00:00:00-08:00' },
      ],
      cancelledAt: '2024-03-10T12:00:00Z',
    });
    expect(config.plans[1]?.charges.map((c) => c.filter)).toEqual([{ model: 'gpt-4', kind: 'input' }, { model: ['mini', 'haiku'] }]);
  });
});

describe('customer subscriptions', () => {
  it('accept subscriptions with instants in any offset, and cancelledAt', () => {
    const input = validConfig();
    subscribed({ subscriptions: [{ plan: 'pro', from: '2024-02-21T06:00:00Z' }, { plan: 'pro', from: '2024-03-05T00:00:00-08:00' }], cancelledAt: '2024-03-10T12:00:00Z' })(input);
    const customer = parseConfig(JSON.stringify(input)).customers[0];
    expect(customer?.plan).toBeUndefined();
    expect(customer?.subscriptions).toEqual([{ plan: 'pro', from: '2024-02-21T06:00:00Z' }, { plan: 'pro', from: '2024-03-05T00:00:00-08:00' }]);
    expect(customer?.cancelledAt).toBe('2024-03-10T12:00:00Z');
  });

  it('require plan or subscriptions, never both, and cancelledAt only with subscriptions', () => {
    expect(problemsAfter((config) => delete config['customers'][0].plan)).toEqual(['customers[0].plan: required (the key of one of plans)']);
    expect(problemsAfter((config) => (config['customers'][0].subscriptions = [{ plan: 'pro', from: '2024-02-21T06:00:00Z' }]))).toEqual([
      'customers[0].plan: not allowed (the customer has subscriptions; give each plan there)',
    ]);
    expect(problemsAfter((config) => (config['customers'][0].cancelledAt = '2024-02-21T06:00:00Z'))).toEqual([
      'customers[0].cancelledAt: not allowed (only a customer with subscriptions can be cancelled; list its subscriptions)',
    ]);
  });

  it('refuse unknown plans, instants without an offset, subscriptions out of order and a cancellation before the first', () => {
    expect(problemsAfter(subscribed({ subscriptions: [{ plan: 'por', from: '2024-02-21T06:00:00Z' }] }))).toEqual([
      'customers[0].subscriptions[0].plan: unknown plan "por"; declare it under plans or use one of pro (did you mean pro?)',
    ]);
    expect(problemsAfter(subscribed({ subscriptions: [{ plan: 'pro', from: '2024-02-21 06:00' }] }))[0]).toMatch(/^customers\[0\]\.subscriptions\[0\]\.from: "2024-02-21 06:00" is not an instant/);
    expect(problemsAfter(subscribed({ subscriptions: [{ plan: 'pro', from: '2024-03-01T00:00:00Z' }, { plan: 'pro', from: '2024-02-01T00:00:00Z' }] }))).toEqual([
      'customers[0].subscriptions[1].from: "2024-02-01T00:00:00Z" must be after customers[0].subscriptions[0].from; list subscriptions in order of from',
    ]);
    expect(problemsAfter(subscribed({ subscriptions: [] }))).toEqual([
      'customers[0].subscriptions: must not be empty; list at least one, e.g. [{ plan: pro, from: "2024-02-21T06:00:00Z" }]',
    ]);
    expect(problemsAfter(subscribed({ cancelledAt: '2024-02-21T05:59:59Z' }))).toEqual([
      'customers[0].cancelledAt: "2024-02-21T05:59:59Z" is before the first subscription starts (2024-02-21T06:00:00Z); cancel at or after it',
    ]);
  });

  it('are read from the customers topic with the same shape, and refused there when malformed', () => {
    const base = { id: 'pst', subjects: ['pst-1'], timezone: 'America/Los_Angeles', currency: 'USD', billingAnchor: '2024-02-20' };
    const subscriptions = [{ plan: 'basic', from: '2024-02-21T06:00:00Z' }];
    expect(parseCustomerRecord({ ...base, subscriptions, cancelledAt: '2024-03-10T12:00:00Z' })).toEqual({ ok: true, record: { ...base, subscriptions, cancelledAt: '2024-03-10T12:00:00Z' } });
    expect(parseCustomerRecord({ ...base, plan: 'pro', subscriptions })).toEqual({ ok: false, problem: 'has both plan and subscriptions; give one of them' });
    expect(parseCustomerRecord({ ...base, subscriptions: [{ plan: 'basic', from: 'soon' }] })).toMatchObject({ ok: false });
    expect(parseCustomerRecord({ ...base, plan: 'pro', cancelledAt: '2024-03-10T12:00:00Z' })).toEqual({ ok: false, problem: 'cancelledAt is only allowed with subscriptions' });
  });
});

describe('charge filters', () => {
  const grouped = (filter: unknown) => (config: Record<string, any>): void => {
    config['meters'][1].groupBy = { model: '$.model', kind: '$.kind' };
    config['plans'][0].charges[0].filter = filter;
  };

  it('accept a value or a list of values per groupBy key', () => {
    const input = validConfig();
    grouped({ model: ['mini', 'haiku'], kind: 'input' })(input);
    expect(parseConfig(JSON.stringify(input)).plans[0]?.charges[0]?.filter).toEqual({ model: ['mini', 'haiku'], kind: 'input' });
  });

  it('refuse a key that is not one of the meter’s groupBy keys, with its path', () => {
    expect(problemsAfter(grouped({ modle: 'gpt-4' }))).toEqual([
      'plans[0].charges[0].filter.modle: "modle" is not a groupBy key of meter "tokens"; use one of its groupBy keys: model, kind (did you mean model?)',
    ]);
    expect(problemsAfter((config) => (config['plans'][0].charges[0].filter = { model: 'gpt-4' }))).toEqual([
      'plans[0].charges[0].filter.model: "model" is not a groupBy key of meter "tokens"; meter "tokens" has no groupBy; add model to its groupBy or remove the filter',
    ]);
  });

  it('refuse values that are not strings or are empty lists', () => {
    expect(problemsAfter(grouped({ model: [] }))).toEqual(['plans[0].charges[0].filter.model: must be a string or a non-empty list of strings, e.g. gpt-4 or [mini, haiku]; got a list']);
  });
});
