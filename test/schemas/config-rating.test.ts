import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../schemas/config.js';
import { problemsAfter, problemsOf, readFixture, validConfig } from './config-helpers.js';

const charge = (extra: Record<string, unknown>): Record<string, unknown> => ({ key: 'c', meter: 'tokens', ...extra });
const withCharge = (extra: Record<string, unknown>) => problemsAfter((config) => (config['plans'][0].charges = [charge(extra)]));
const COVER = 'intervals cover the day from 00:00 to 24:00, in order, with no gaps or overlaps';

describe('customers', () => {
  it('require every key, with an example of each', () => {
    expect(problemsAfter((config) => (config['customers'] = [{}]))).toEqual([
      'customers[0].id: required (the customer id, e.g. acme)',
      'customers[0].subjects: required (the event subjects this customer owns, e.g. [acme-prod])',
      'customers[0].timezone: required (an IANA zone, e.g. America/Los_Angeles)',
      'customers[0].currency: required (an ISO 4217 code, e.g. USD)',
      'customers[0].billingAnchor: required (a local date, e.g. "2024-01-15")',
      'customers[0].plan: required (the key of one of plans)',
    ]);
  });

  it('refuse an unknown IANA zone, suggesting the closest', () => {
    expect(problemsAfter((config) => (config['customers'][0].timezone = 'America/Los_Angles'))).toEqual([
      'customers[0].timezone: "America/Los_Angles" is not an IANA time zone; use a name such as America/Los_Angeles, Asia/Kolkata or UTC (did you mean America/Los_Angeles?)',
    ]);
    expect(problemsAfter((config) => (config['customers'][0].timezone = '+05:30'))[0]).toContain('customers[0].timezone: "+05:30" is not an IANA time zone');
  });

  it('refuse a zone that is not a string', () => {
    expect(problemsAfter((config) => (config['customers'][0].timezone = 5.5))).toEqual(['customers[0].timezone: must be an IANA time zone; got a number; quote it: "5.5"']);
  });

  it('accept half-hour and quarter-hour zones', () => {
    const input = validConfig();
    input['customers'][0].timezone = 'Asia/Kathmandu';
    expect(parseConfig(JSON.stringify(input)).customers[0]?.timezone).toBe('Asia/Kathmandu');
  });

  it('refuse an unknown currency code, and a lower-case one with a suggestion', () => {
    expect(problemsAfter((config) => (config['customers'][0].currency = 'XYZ'))).toEqual([
      'customers[0].currency: "XYZ" is not a supported ISO 4217 currency code; use e.g. USD, EUR or JPY',
    ]);
    expect(problemsAfter((config) => (config['customers'][0].currency = 'usd'))).toEqual([
      'customers[0].currency: "usd" is not a supported ISO 4217 currency code; use e.g. USD, EUR or JPY (did you mean USD?)',
    ]);
  });

  it('refuse a billing anchor that is not a real date', () => {
    expect(problemsAfter((config) => (config['customers'][0].billingAnchor = '2023-02-29'))).toEqual([
      'customers[0].billingAnchor: "2023-02-29" is not a real calendar date',
    ]);
    expect(problemsAfter((config) => (config['customers'][0].billingAnchor = '15.01.2024'))).toEqual([
      'customers[0].billingAnchor: "15.01.2024" is not a date; write YYYY-MM-DD, e.g. "2024-01-15"',
    ]);
  });

  it('accept an unquoted YAML date as the billing anchor', () => {
    const text = readFixture('tally.yaml').replace('billingAnchor: "2024-01-15"', 'billingAnchor: 2024-01-31');
    expect(parseConfig(text).customers[0]?.billingAnchor).toBe('2024-01-31');
  });

  it('refuse a plan that does not exist', () => {
    expect(problemsAfter((config) => (config['customers'][0].plan = 'por'))).toEqual([
      'customers[0].plan: unknown plan "por"; declare it under plans or use one of pro (did you mean pro?)',
    ]);
  });

  it('refuse empty and duplicate subjects, and duplicate customer ids', () => {
    expect(
      problemsAfter((config) => {
        config['customers'][0].subjects = [];
        config['customers'].push({ ...config['customers'][0], subjects: ['a', 'a'] });
      }),
    ).toEqual([
      'customers[0].subjects: must not be empty; list the event subjects this customer owns, e.g. [acme-prod]',
      'customers[1].subjects[1]: duplicate subject "a" (also at customers[1].subjects[0]); subjects must be unique',
      'customers[1].id: duplicate customer id "acme" (also at customers[0].id); customer ids must be unique',
    ]);
  });

  it('refuse a subject claimed by two customers', () => {
    expect(problemsAfter((config) => config['customers'].push({ ...config['customers'][0], id: 'globex', subjects: ['globex-1', 'acme-prod'] }))).toEqual([
      'customers[1].subjects[1]: "acme-prod" already belongs to customer "acme" (customers[0].subjects[0]); a subject\'s usage is billed to one customer',
    ]);
  });
});

describe('plans and charges', () => {
  it('refuse duplicate plan keys and duplicate charge keys within a plan', () => {
    expect(
      problemsAfter((config) => {
        config['plans'][0].charges.push(charge({ model: 'per_unit', unitPrice: '1', key: 'base' }));
        config['plans'].push({ key: 'pro', charges: [] });
      }),
    ).toEqual([
      'plans[0].charges[1].key: duplicate charge key "base" (also at plans[0].charges[0].key); charge keys must be unique',
      'plans[1].key: duplicate plan key "pro" (also at plans[0].key); plan keys must be unique',
    ]);
  });

  it('allow the same charge key in different plans', () => {
    const input = validConfig();
    input['plans'].push({ key: 'team', charges: [charge({ key: 'base', model: 'per_unit', unitPrice: '2' })] });
    expect(parseConfig(JSON.stringify(input)).plans).toHaveLength(2);
  });

  it('refuse a charge on an unknown meter, suggesting the closest', () => {
    expect(withCharge({ meter: 'tokns', model: 'per_unit', unitPrice: '1' })).toEqual([
      'plans[0].charges[0].meter: unknown meter "tokns"; use one of api_requests, tokens (did you mean tokens?)',
    ]);
  });

  it('refuse an unknown model', () => {
    expect(withCharge({ model: 'tiered' })).toEqual(['plans[0].charges[0].model: unknown "tiered"; use one of per_unit, graduated, volume, package, time_of_day']);
  });

  it('refuse charges on AVG and MIN meters, explaining why', () => {
    const problems = problemsAfter((config) => {
      config['meters'].push({ slug: 'latency', eventType: 'x', aggregation: 'AVG', valueProperty: '$.ms' }, { slug: 'low', eventType: 'x', aggregation: 'MIN', valueProperty: '$.v' });
      config['plans'][0].charges = [charge({ meter: 'latency', model: 'per_unit', unitPrice: '1' }), charge({ key: 'd', meter: 'low', model: 'per_unit', unitPrice: '1' })];
    });
    expect(problems).toEqual([
      'plans[0].charges[0].meter: "latency" is an AVG meter, which cannot be charged for: an average is not a quantity of usage: it does not add up over a period, and pricing it would bill the same for 1 event as for 1,000,000; meter the total with SUM (or COUNT) and price that',
      'plans[0].charges[1].meter: "low" is a MIN meter, which cannot be charged for: a minimum is not a quantity of usage to bill; price a SUM, COUNT, MAX, LATEST or UNIQUE_COUNT meter instead',
    ]);
  });

  it('accept charges on COUNT, SUM, LATEST, MAX and UNIQUE_COUNT meters', () => {
    const input = validConfig();
    input['meters'].push(
      { slug: 'seats', eventType: 's', aggregation: 'LATEST', valueProperty: '$.n' },
      { slug: 'peak', eventType: 'p', aggregation: 'MAX', valueProperty: '$.n' },
      { slug: 'users', eventType: 'u', aggregation: 'UNIQUE_COUNT', valueProperty: '$.user' },
    );
    input['plans'][0].charges = ['api_requests', 'tokens', 'seats', 'peak', 'users'].map((meter) => charge({ key: meter, meter, model: 'per_unit', unitPrice: '1' }));
    expect(parseConfig(JSON.stringify(input)).plans[0]?.charges).toHaveLength(5);
  });

  it('require money as decimal strings, telling to quote YAML numbers', () => {
    expect(problemsOf(readFixture('tally.yaml').replace('unitPrice: "0.001" }', 'unitPrice: 0.001 }'))).toEqual([
      'plans[0].charges[0].unitPrice: must be a decimal string; quote it: "0.001" (YAML numbers are binary floats and lose precision)',
    ]);
  });

  it('refuse negative, exponent and non-numeric prices', () => {
    expect(withCharge({ model: 'per_unit', unitPrice: '-1', flatFee: '1e3' })).toEqual([
      'plans[0].charges[0].unitPrice: "-1" is negative; prices and fees are >= 0',
      'plans[0].charges[0].flatFee: "1e3" is not a plain decimal; write digits with an optional fraction, e.g. "0.001" or "5"',
    ]);
    expect(withCharge({ model: 'per_unit', unitPrice: 'free' })[0]).toContain('"free" is not a plain decimal');
  });

  it('require unitPrice on per_unit, and refuse keys of other models', () => {
    expect(withCharge({ model: 'per_unit', tiers: [{ unitPrice: '1' }], packageSize: 2 })).toEqual([
      'plans[0].charges[0].unitPrice: required for per_unit (the price of one unit, e.g. "0.001")',
      'plans[0].charges[0].tiers: not allowed for per_unit (per_unit uses unitPrice, flatFee; remove it)',
      'plans[0].charges[0].packageSize: not allowed for per_unit (per_unit uses unitPrice, flatFee; remove it)',
    ]);
  });

  it('require tiers on graduated and volume, and refuse charge-level prices there', () => {
    expect(withCharge({ model: 'graduated', unitPrice: '1' })).toEqual([
      'plans[0].charges[0].unitPrice: not allowed for graduated (graduated uses tiers; remove it)',
      'plans[0].charges[0].tiers: required for graduated (e.g. [{ upTo: 1000, unitPrice: "0" }, { unitPrice: "0.001" }])',
    ]);
    expect(withCharge({ model: 'volume', tiers: [] })).toEqual(['plans[0].charges[0].tiers: must not be empty; give at least one tier, e.g. [{ unitPrice: "0.001" }]']);
  });

  it('require every tier but the last to have an increasing integer upTo, and the last to be open', () => {
    expect(withCharge({ model: 'graduated', tiers: [{ unitPrice: '1' }, { upTo: 10, unitPrice: '1' }, { upTo: 10, unitPrice: '1' }, { upTo: 20, unitPrice: '1' }] })).toEqual([
      'plans[0].charges[0].tiers[0].upTo: required (only the last tier is open-ended; give this tier’s inclusive upper bound in units)',
      'plans[0].charges[0].tiers[2].upTo: 10 must be greater than plans[0].charges[0].tiers[1].upTo (10); tiers go in increasing order',
      'plans[0].charges[0].tiers[3].upTo: not allowed on the last tier: it is open-ended and prices every unit above 10; remove upTo',
    ]);
    expect(withCharge({ model: 'volume', tiers: [{ upTo: 2.5, unitPrice: '1' }, { unitPrice: 1 }] })).toEqual([
      'plans[0].charges[0].tiers[0].upTo: must be an integer >= 1; got 2.5',
      'plans[0].charges[0].tiers[1].unitPrice: must be a decimal string; quote it: "1" (YAML numbers are binary floats and lose precision)',
    ]);
  });

  it('accept a single open tier', () => {
    const input = validConfig();
    input['plans'][0].charges = [charge({ model: 'volume', tiers: [{ unitPrice: '0.5', flatFee: '2' }] })];
    expect(parseConfig(JSON.stringify(input)).plans[0]?.charges[0]?.tiers).toEqual([{ unitPrice: '0.5', flatFee: '2' }]);
  });

  it('require packageSize >= 1 and packagePrice on package, and freeUnits >= 0', () => {
    expect(withCharge({ model: 'package' })).toEqual([
      'plans[0].charges[0].packageSize: required for package (units per package, e.g. 10)',
      'plans[0].charges[0].packagePrice: required for package (the price of one package, e.g. "100")',
    ]);
    expect(withCharge({ model: 'package', packageSize: 0, packagePrice: '1', freeUnits: -1 })).toEqual([
      'plans[0].charges[0].packageSize: 0 is out of range; use an integer >= 1',
      'plans[0].charges[0].freeUnits: -1 is out of range; use an integer >= 0',
    ]);
    expect(withCharge({ model: 'per_unit', unitPrice: '1', freeUnits: 5 })).toEqual([
      'plans[0].charges[0].freeUnits: not allowed for per_unit (per_unit uses unitPrice, flatFee; remove it)',
    ]);
  });

  it('require time_of_day intervals to start at 00:00', () => {
    expect(withCharge({ model: 'time_of_day', intervals: [{ from: '01:00', to: '24:00', unitPrice: '1' }] })).toEqual([
      `plans[0].charges[0].intervals[0].from: must be 00:00 (the day starts at 00:00); start it at 00:00: ${COVER}`,
    ]);
  });

  it('refuse gaps and overlaps between time_of_day intervals', () => {
    const at = (from: string, to: string) => ({ from, to, unitPrice: '1' });
    expect(withCharge({ model: 'time_of_day', intervals: [at('00:00', '06:00'), at('07:00', '12:00'), at('11:00', '24:00')] })).toEqual([
      `plans[0].charges[0].intervals[1].from: "07:00" leaves a gap (plans[0].charges[0].intervals[0] ends at 06:00); start it at 06:00: ${COVER}`,
      `plans[0].charges[0].intervals[2].from: "11:00" overlaps (plans[0].charges[0].intervals[1] ends at 12:00); start it at 12:00: ${COVER}`,
    ]);
  });

  it('require time_of_day intervals to end at 24:00 and each to end after it starts', () => {
    const at = (from: string, to: string) => ({ from, to, unitPrice: '1' });
    expect(withCharge({ model: 'time_of_day', intervals: [at('00:00', '00:00'), at('00:00', '23:00')] })).toEqual([
      `plans[0].charges[0].intervals[0].to: "00:00" must be after from ("00:00"); ${COVER}`,
      `plans[0].charges[0].intervals[1].to: "23:00" leaves the rest of the day unpriced; end the last interval at "24:00": ${COVER}`,
    ]);
  });

  it('require HH:mm times, with 24:00 only as an end', () => {
    expect(withCharge({ model: 'time_of_day', intervals: [{ from: '24:00', to: '6:00', unitPrice: '1' }] })).toEqual([
      'plans[0].charges[0].intervals[0].from: "24:00" is not a time of day; write HH:mm from 00:00 to 23:59, quoted (e.g. "06:00")',
      'plans[0].charges[0].intervals[0].to: "6:00" is not a time of day; write HH:mm from 00:00 to 24:00, quoted (e.g. "06:00")',
    ]);
  });

  it('require a SUM or COUNT meter for time_of_day charges', () => {
    const day = [{ from: '00:00', to: '24:00', unitPrice: '1' }];
    expect(
      problemsAfter((config) => {
        config['meters'].push({ slug: 'seats', eventType: 's', aggregation: 'LATEST', valueProperty: '$.n' });
        config['plans'][0].charges = [charge({ meter: 'seats', model: 'time_of_day', intervals: day }), charge({ key: 'd', meter: 'api_requests', model: 'time_of_day', intervals: day })];
      }),
    ).toEqual([
      'plans[0].charges[0].meter: "seats" is a LATEST meter; time_of_day needs a SUM or COUNT meter (only usage that adds up can be split by the time of day it happened)',
    ]);
  });

  it('require time_of_day boundaries on window boundaries', () => {
    expect(
      problemsAfter((config) => {
        config['windows'] = { size: 'PT15M' };
        config['plans'][0].charges = [charge({ model: 'time_of_day', intervals: [{ from: '00:00', to: '06:10', unitPrice: '1' }, { from: '06:10', to: '24:00', unitPrice: '2' }] })];
      }),
    ).toEqual([
      'plans[0].charges[0].intervals[1].from: "06:10" is not on a windows.size (PT15M) boundary; usage is priced per window, so move it to a multiple of PT15M or make windows.size smaller',
    ]);
  });
});
