import { afterEach, describe, expect, it } from 'vitest';
import type { BillingDetailRecord } from '../../schemas/billing-detail.js';
import type { CustomerRecord } from '../../schemas/customer-record.js';
import { TopologyError } from '../../schemas/index.js';
import { TopologyTestDriver } from '../../topology/index.js';
import { buildMeteringTopology, changeCustomerPlan, customersStoreName, customerTableRecords, type MeterDelta } from '../../processors/index.js';
import { acme, perUnitTokens, ratingConfig, RatingHarness, usage } from './rating-harness.js';
import { topics } from './metering-harness.js';

let harness: RatingHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(...args: Parameters<typeof RatingHarness.start>): Promise<RatingHarness> {
  harness = await RatingHarness.start(...args);
  return harness;
}

const brief = (d: BillingDetailRecord): string => `${d.plan} ${d.periodStart.slice(0, 10)} q=${d.quantity} a=${d.amount} ${d.status} r${d.revision}`;
const tokens = (subject: string, time: string, value: number) => usage('llm.tokens', subject, time, { tokens: value });
const acmeRecord = (): CustomerRecord => customerTableRecords({ customers: [acme] })[0]?.value as CustomerRecord;
const twoPlans = [
  { key: 'pro', charges: [perUnitTokens] },
  { key: 'basic', charges: [{ ...perUnitTokens, unitPrice: '0.002', flatFee: '1' }] },
];

describe('the customers table', () => {
  it('turns config customers into one record per subject, in config order', () => {
    const beta = { ...acme, id: 'beta', subjects: ['b1'], plan: 'basic' };
    expect(customerTableRecords({ customers: [acme, beta] }).map((r) => [r.key, r.value.id])).toEqual([
      ['acme-prod', 'acme'],
      ['acme-dev', 'acme'],
      ['b1', 'beta'],
    ]);
    expect(customerTableRecords({ customers: [acme] })[0]?.value).toEqual({
      id: 'acme',
      subjects: ['acme-prod', 'acme-dev'],
      timezone: 'America/Los_Angeles',
      currency: 'USD',
      billingAnchor: '2024-01-01',
      plan: 'pro',
    });
  });

  it('holds one row per subject and never moves stream time', async () => {
    const h = await start(ratingConfig({ customers: [{ ...acme, subjects: ['a', 'b', 'c'] }] }));
    const rows: string[] = [];
    for await (const row of h.driver.getKeyValueStore<CustomerRecord>(customersStoreName, 0).all()) rows.push(`${row.key}→${row.value.id}`);
    expect(rows).toEqual(['a→acme', 'b→acme', 'c→acme']);
    await h.driver.pipeRaw(topics.customers, Buffer.from('d'), Buffer.from(JSON.stringify({ ...acmeRecord(), subjects: ['d'] })), { timestampMs: Date.parse('2099-01-01T00:00:00Z') });
    expect(h.driver.streamTimeMs(1)).toBe(-1);
    await h.pipe(tokens('d', '2024-02-10T10:00:00Z', 1));
    expect(h.driver.streamTimeMs(1)).toBe(Date.parse('2024-02-10T10:00:00Z'));
  });

  it('dead-letters usage from a subject no customer owns as unrated, until a customer added on the topic owns it', async () => {
    const h = await start();
    await h.pipe(tokens('newco-prod', '2024-02-10T10:00:00Z', 7));
    expect(h.billing()).toEqual([]);
    const [dead] = h.deadLetters();
    expect(dead).toMatchObject({ reason: 'unrated', topic: 'tally-meters', partition: 0, offset: '-1', timestamp: '2024-02-10T10:00:59.999Z', meter: 'tokens' });
    expect(dead?.message).toContain('no customer owns subject "newco-prod"');
    expect(Buffer.from(dead?.key as string, 'base64').toString()).toBe('tokens|newco-prod|{}|2024-02-10T10:00:00.000Z');
    expect(JSON.parse(Buffer.from(dead?.value as string, 'base64').toString()) as MeterDelta).toMatchObject({ subject: 'newco-prod', change: { add: '7' } });
    expect(h.metering.counters.deadLetters.unrated).toBe(1);

    await h.putCustomer('newco-prod', { ...acmeRecord(), id: 'newco', subjects: ['newco-prod'] });
    await h.pipe(tokens('newco-prod', '2024-02-10T10:01:00Z', 3));
    expect(h.billing().map((d) => [d.customerId, d.quantity])).toEqual([['newco', '3']]);
    expect(h.deadLetters()).toEqual([]);
  });

  it('stops billing a subject whose row is deleted (tombstone), and refuses a customer on an unknown plan', async () => {
    const h = await start();
    await h.putCustomer('acme-dev', null);
    await h.pipe(tokens('acme-dev', '2024-02-10T10:00:00Z', 1));
    await h.putCustomer('acme-prod', { ...acmeRecord(), plan: 'gold' });
    await h.pipe(tokens('acme-prod', '2024-02-10T10:01:00Z', 1));
    expect(h.billing()).toEqual([]);
    expect(h.deadLetters().map((d) => [d.reason, /no customer owns|plan "gold"/.exec(d.message)?.[0]])).toEqual([
      ['unrated', 'no customer owns'],
      ['unrated', 'plan "gold"'],
    ]);
  });

  it('dead-letters a malformed customer record and keeps the previous row', async () => {
    const h = await start();
    await h.putCustomer('acme-prod', { ...acmeRecord(), timezone: 'Pacific/Nowhere' });
    await h.driver.pipeRaw(topics.customers, Buffer.from('acme-prod'), Buffer.from('{not json'));
    expect(h.deadLetters().map((d) => [d.reason, d.topic, d.offset])).toEqual([
      ['invalid-field', 'tally-customers', '2'],
      ['invalid-encoding', 'tally-customers', '3'],
    ]);
    await h.pipe(tokens('acme-prod', '2024-02-10T10:00:00Z', 1));
    expect(h.billing().map((d) => d.timezone)).toEqual(['America/Los_Angeles']);
    expect(h.counters.customersRefused).toBe(2);
  });
});

describe('plan changes', () => {
  it('apply from the next period: the current period keeps the plan it started with', async () => {
    const h = await start(ratingConfig({ plans: twoPlans }));
    await h.pipe(tokens('acme-prod', '2024-02-10T10:00:00Z', 1000));
    const changed = changeCustomerPlan(acmeRecord(), 'basic', Date.parse('2024-02-15T00:00:00Z'));
    for (const subject of changed.subjects) await h.putCustomer(subject, changed);
    await h.pipe(tokens('acme-dev', '2024-02-20T10:00:00Z', 1000));
    await h.pipe(tokens('acme-dev', '2024-03-02T10:00:00Z', 1000));
    expect(h.billing().map(brief)).toEqual([
      'pro 2024-02-01 q=1000 a=6 provisional r1',
      'pro 2024-02-01 q=2000 a=7 provisional r2', // still pro: 5 + 0.001 × 2000
      'basic 2024-03-01 q=1000 a=3 provisional r1', // 1 + 0.002 × 1000
      'pro 2024-02-01 q=2000 a=7 final r3', // March usage moved stream time past February's close
    ]);
  });

  it('apply from the next period even when the current one had no usage before the change', async () => {
    const h = await start(ratingConfig({ plans: twoPlans }));
    const changed = changeCustomerPlan(acmeRecord(), 'basic', Date.parse('2024-02-15T00:00:00Z'));
    expect(changed).toMatchObject({ plan: 'basic', previousPlan: 'pro', planChangedAt: '2024-02-15T00:00:00.000Z' });
    for (const subject of changed.subjects) await h.putCustomer(subject, changed);
    await h.pipe(tokens('acme-prod', '2024-02-20T10:00:00Z', 1000));
    await h.pipe(tokens('acme-prod', '2024-03-02T10:00:00Z', 1000));
    expect(h.billing().map(brief)).toEqual(['pro 2024-02-01 q=1000 a=6 provisional r1', 'basic 2024-03-01 q=1000 a=3 provisional r1', 'pro 2024-02-01 q=1000 a=6 final r2']);
  });

  it('keep the plan the period started with across two changes in one period', () => {
    const once = changeCustomerPlan(acmeRecord(), 'basic', Date.parse('2024-02-10T00:00:00Z'));
    const twice = changeCustomerPlan(once, 'gold', Date.parse('2024-02-20T00:00:00Z'));
    expect(twice).toMatchObject({ plan: 'gold', previousPlan: 'pro' });
    const nextMonth = changeCustomerPlan(twice, 'basic', Date.parse('2024-03-20T00:00:00Z'));
    expect(nextMonth).toMatchObject({ plan: 'basic', previousPlan: 'gold' });
  });
});

describe('the rating topology', () => {
  it('has stable names: the customers table and the join beside the meters, rating and entitlements in their own sub-topology', () => {
    const topology = buildMeteringTopology(ratingConfig());
    const lines = topology.describe().split('\n');
    expect(lines).toContain('  Processor: aggregate-meters (stores: [meter-api_requests, meter-tokens, meter-seats, meter-peak, meter-users, meter-close-state]) --> meters-sink, late-events-sink, usage-customer-join <-- dedupe-events');
    expect(lines).toContain('  Processor: usage-customer-join (stores: [customers-by-subject]) --> unrated-dead-letter-sink, usage-by-customer-sink <-- aggregate-meters');
    expect(lines.slice(lines.indexOf('Sub-topology: 2'))).toEqual([
      'Sub-topology: 2',
      '  Source: usage-by-customer-source (topics: [usage-by-customer-repartition]) --> rate-usage, track-entitlements',
      '  Processor: rate-usage (stores: [rating-details, rating-periods, rating-open-details, rating-close-state, rating-invoices]) --> billing-sink, invoices-sink, rating-dead-letter-sink <-- usage-by-customer-source',
      '  Sink: billing-sink (topic: tally-billing-details) <-- rate-usage',
      '  Sink: invoices-sink (topic: tally-invoices) <-- rate-usage',
      '  Sink: rating-dead-letter-sink (topic: tally-dead-letter) <-- rate-usage',
      '  Processor: track-entitlements (stores: [entitlement-usage, entitlement-terms]) --> entitlements-sink, alerts-sink <-- usage-by-customer-source',
      '  Sink: entitlements-sink (topic: tally-entitlements) <-- track-entitlements',
      '  Sink: alerts-sink (topic: tally-alerts) <-- track-entitlements',
    ]);
    expect(topology.subtopologies[1]?.sourceTopics).toEqual(['events-by-subject-repartition', 'tally-customers']);
    expect([...topology.internalTopics.keys()]).toEqual(['events-by-subject-repartition', 'usage-by-customer-repartition']);
  });

  it('rates in the ingest sub-topology when producers key events by subject', async () => {
    const topology = buildMeteringTopology(ratingConfig(), { keyedBySubject: true });
    expect(topology.subtopologies.map((sub) => sub.sourceTopics)).toEqual([['usage-events', 'tally-customers'], ['usage-by-customer-repartition']]);
    const h = await start(ratingConfig(), { keyedBySubject: true });
    await h.metering.pipe(tokens('acme-prod', '2024-02-10T10:00:00Z', 1000), { key: 'acme-prod' });
    expect(h.billing().map(brief)).toEqual(['pro 2024-02-01 q=1000 a=6 provisional r1']);
  });

  it('is left out when the config declares no plans', () => {
    const topology = buildMeteringTopology(ratingConfig({ plans: [] }));
    expect(topology.sourceTopics).not.toContain('tally-customers');
    expect(topology.sinkTopics).not.toContain('tally-billing-details');
  });


  it('refuses a customers topic whose partition count differs from the subject-keyed events', async () => {
    const topology = buildMeteringTopology(ratingConfig());
    await expect(TopologyTestDriver.create(topology, { partitions: { 'usage-events': 2, 'tally-customers': 1 } })).rejects.toThrow(TopologyError);
    await expect(TopologyTestDriver.create(topology, { partitions: { 'usage-events': 2, 'tally-customers': 1 } })).rejects.toThrow(/tally-customers: 1/);
  });
});
