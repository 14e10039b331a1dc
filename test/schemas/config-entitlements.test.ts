import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../schemas/config.js';
import { parseCustomerRecord } from '../../schemas/customer-record.js';
import { customerTableRecords } from '../../processors/index.js';
import { problemsAfter, validConfig } from './config-helpers.js';
import { stringify } from 'yaml';

const withEntitlements = (...entitlements: unknown[]) => (config: Record<string, any>): void => {
  config['meters'][1].groupBy = { model: '$.model' };
  config['customers'][0].entitlements = entitlements;
};

describe('entitlements in tally.yaml', () => {
  it('are read as written, alerts defaulting to none', () => {
    const input = validConfig();
    withEntitlements(
      { key: 'tokens-monthly', meter: 'tokens', limit: '1000000', alerts: [80, 100] },
      { key: 'gpt4', meter: 'tokens', filter: { model: 'gpt-4' }, limit: '50000.5' },
    )(input);
    const config = parseConfig(stringify(input));
    expect(config.customers[0]?.entitlements).toEqual([
      { key: 'tokens-monthly', meter: 'tokens', limit: '1000000', alerts: [80, 100] },
      { key: 'gpt4', meter: 'tokens', filter: { model: 'gpt-4' }, limit: '50000.5', alerts: [] },
    ]);
  });

  it('require key, meter and limit, with an example of each', () => {
    expect(problemsAfter(withEntitlements({}))).toEqual([
      'customers[0].entitlements[0].key: required (the entitlement name, unique within the customer, e.g. tokens-monthly)',
      'customers[0].entitlements[0].meter: required (the slug of the meter whose usage counts against the limit)',
      'customers[0].entitlements[0].limit: required (the usage allowed per billing period, a decimal string, e.g. "1000000")',
    ]);
  });

  it('refuse a limit that is zero, negative or a YAML number', () => {
    expect(problemsAfter(withEntitlements({ key: 'e', meter: 'tokens', limit: '0' }))).toEqual([
      'customers[0].entitlements[0].limit: "0" must be greater than 0; a limit of 0 would deny all usage from the start — give the usage allowed per billing period, e.g. "1000"',
    ]);
    expect(problemsAfter(withEntitlements({ key: 'e', meter: 'tokens', limit: '-5' }))[0]).toContain('customers[0].entitlements[0].limit: "-5" is negative');
    expect(problemsAfter(withEntitlements({ key: 'e', meter: 'tokens', limit: 100 }))).toEqual([
      'customers[0].entitlements[0].limit: must be a decimal string; quote it: "100" (YAML numbers are binary floats and lose precision)',
    ]);
  });

  it('refuse alert percents that are not integers > 0, repeated or out of order', () => {
    expect(problemsAfter(withEntitlements({ key: 'e', meter: 'tokens', limit: '10', alerts: [0, 50.5] }))).toEqual([
      'customers[0].entitlements[0].alerts[0]: 0 is out of range; use an integer >= 1',
      'customers[0].entitlements[0].alerts[1]: must be an integer >= 1; got 50.5',
    ]);
    expect(problemsAfter(withEntitlements({ key: 'e', meter: 'tokens', limit: '10', alerts: [80, 80, 50, 150] }))).toEqual([
      'customers[0].entitlements[0].alerts[1]: 80 duplicates customers[0].entitlements[0].alerts[0]; list alert percents once each, in increasing order, e.g. [80, 100]',
      'customers[0].entitlements[0].alerts[2]: 50 must be greater than customers[0].entitlements[0].alerts[1] (80); list alert percents once each, in increasing order, e.g. [80, 100]',
    ]);
  });

  it('refuse an unknown meter, a meter that cannot be counted, and filter keys outside its groupBy', () => {
    expect(problemsAfter(withEntitlements({ key: 'e', meter: 'tokenz', limit: '10' }))).toEqual([
      'customers[0].entitlements[0].meter: unknown meter "tokenz"; use one of api_requests, tokens (did you mean tokens?)',
    ]);
    expect(
      problemsAfter((config) => {
        config['meters'].push({ slug: 'latency', eventType: 'req', aggregation: 'AVG', valueProperty: '$.ms' });
        config['customers'][0].entitlements = [{ key: 'e', meter: 'latency', limit: '10' }];
      })[0],
    ).toMatch(/^customers\[0\]\.entitlements\[0\]\.meter: "latency" is an AVG meter, which cannot be counted against a limit: /);
    expect(problemsAfter(withEntitlements({ key: 'e', meter: 'tokens', filter: { modle: 'gpt-4' }, limit: '10' }))).toEqual([
      'customers[0].entitlements[0].filter.modle: "modle" is not a groupBy key of meter "tokens"; use one of its groupBy keys: model (did you mean model?)',
    ]);
  });

  it('refuse two entitlements with one key on a customer', () => {
    expect(problemsAfter(withEntitlements({ key: 'e', meter: 'tokens', limit: '10' }, { key: 'e', meter: 'api_requests', limit: '5' }))).toEqual([
      'customers[0].entitlements[1].key: duplicate entitlement key "e" (also at customers[0].entitlements[0].key); entitlement keys must be unique',
    ]);
  });
});

describe('entitlements on the customers topic', () => {
  const base = { id: 'acme', subjects: ['acme-1'], timezone: 'UTC', currency: 'USD', billingAnchor: '2024-01-01', plan: 'pro' };

  it('are seeded from the config and read back as written', () => {
    const input = validConfig();
    withEntitlements({ key: 'gpt4', meter: 'tokens', filter: { model: ['gpt-4', 'gpt-4o'] }, limit: '50', alerts: [100] })(input);
    const [seeded] = customerTableRecords(parseConfig(stringify(input)));
    expect(seeded?.value.entitlements).toEqual([{ key: 'gpt4', meter: 'tokens', filter: { model: ['gpt-4', 'gpt-4o'] }, limit: '50', alerts: [100] }]);
    expect(parseCustomerRecord(JSON.parse(JSON.stringify(seeded?.value)))).toEqual({ ok: true, record: seeded?.value });
  });

  it('are refused when malformed, naming the entry', () => {
    const entitlement = { key: 'e', meter: 'tokens', limit: '10', alerts: [80, 100] };
    expect(parseCustomerRecord({ ...base, entitlements: [{ ...entitlement, limit: '0' }] })).toEqual({ ok: false, problem: 'entitlements[0].limit is not a decimal string greater than 0' });
    expect(parseCustomerRecord({ ...base, entitlements: [{ ...entitlement, alerts: [100, 80] }] })).toEqual({
      ok: false,
      problem: 'entitlements[0].alerts is not a list of integer percents > 0 in increasing order',
    });
    expect(parseCustomerRecord({ ...base, entitlements: [entitlement, entitlement] })).toEqual({
      ok: false,
      problem: 'entitlements[1].key "e" is a duplicate; entitlement keys are unique per customer',
    });
    expect(parseCustomerRecord({ ...base, entitlements: [{ ...entitlement, filter: { model: 4 } }] })).toEqual({ ok: false, problem: 'entitlements[0].filter is not { <groupBy key>: value | [values] }' });
    expect(parseCustomerRecord({ ...base, entitlements: { e: entitlement } })).toEqual({ ok: false, problem: 'entitlements is not a list' });
  });
});
