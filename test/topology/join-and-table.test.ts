import { afterEach, describe, expect, it } from 'vitest';
import { jsonSerde, stringSerde } from '../../schemas/index.js';
import { StreamsBuilder, TopologyTestDriver } from '../../topology/index.js';

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

interface Customer {
  readonly plan: string;
}
const customerSerde = jsonSerde<Customer>();

function enrich(left: boolean) {
  const builder = new StreamsBuilder();
  const customers = builder.table<Customer>('customers', { name: 'customers-table', caching: false });
  const usage = builder.stream('usage');
  const joined = left
    ? usage.leftJoin(customers, (v, c) => `${v}:${c?.plan ?? 'none'}`)
    : usage.join(customers, (v, c) => `${v}:${c.plan}`);
  joined.to('out');
  return builder.build();
}

describe('tables and stream–table joins', () => {
  it('an inner join enriches records that have a table row and skips the rest', async () => {
    driver = await TopologyTestDriver.create(enrich(false));
    const customers = driver.inputTopic('customers', stringSerde, customerSerde);
    await customers.pipe('acme', { plan: 'pro' });
    await driver.inputTopic('usage').pipe('acme', 'u1');
    await driver.inputTopic('usage').pipe('globex', 'u2');
    await customers.pipe('acme', { plan: 'enterprise' });
    await driver.inputTopic('usage').pipe('acme', 'u3');
    expect(driver.outputTopic('out').readValues()).toEqual(['u1:pro', 'u3:enterprise']);
  });

  it('a left join forwards records without a table row with an undefined table value', async () => {
    driver = await TopologyTestDriver.create(enrich(true));
    await driver.inputTopic('usage').pipe('globex', 'u1');
    await driver.inputTopic('customers', stringSerde, customerSerde).pipe('globex', { plan: 'free' });
    await driver.inputTopic('usage').pipe('globex', 'u2');
    expect(driver.outputTopic('out').readValues()).toEqual(['u1:none', 'u2:free']);
  });

  it('a tombstone on the table topic deletes the row', async () => {
    driver = await TopologyTestDriver.create(enrich(true));
    const customers = driver.inputTopic('customers', stringSerde, customerSerde);
    await customers.pipe('acme', { plan: 'pro' });
    await customers.pipe('acme', null);
    await driver.inputTopic('usage').pipe('acme', 'u1');
    expect(driver.outputTopic('out').readValues()).toEqual(['u1:none']);
    expect(await driver.getKeyValueStore('customers-table').get('acme')).toBeUndefined();
  });

  it('table updates do not move stream time', async () => {
    driver = await TopologyTestDriver.create(enrich(true));
    await driver.inputTopic('customers', stringSerde, customerSerde).pipe('acme', { plan: 'pro' }, { timestampMs: 9_999_999 });
    expect(driver.streamTimeMs(0)).toBe(-1);
    await driver.inputTopic('usage').pipe('acme', 'u', { timestampMs: 5 });
    expect(driver.streamTimeMs(0)).toBe(5);
  });

  it('refuses to join topics that are not co-partitioned', async () => {
    await expect(TopologyTestDriver.create(enrich(false), { partitions: { usage: 4, customers: 2 } })).rejects.toThrow(
      /different partition counts \(customers: 2, usage: 4\)|different partition counts \(usage: 4, customers: 2\)/,
    );
  });

  it('joins on the partition that holds the key when topics have several partitions', async () => {
    driver = await TopologyTestDriver.create(enrich(false), { partitions: { usage: 3, customers: 3 } });
    const customers = driver.inputTopic('customers', stringSerde, customerSerde);
    for (const id of ['a', 'b', 'c', 'd', 'e']) await customers.pipe(id, { plan: `plan-${id}` });
    for (const id of ['e', 'd', 'c', 'b', 'a']) await driver.inputTopic('usage').pipe(id, 'u');
    expect(driver.outputTopic('out').readValues()).toEqual(['u:plan-e', 'u:plan-d', 'u:plan-c', 'u:plan-b', 'u:plan-a']);
  });

  it('repartitions a re-keyed stream before the join when given a name', async () => {
    const builder = new StreamsBuilder();
    const customers = builder.table<Customer>('customers', { name: 'customers-table' });
    builder
      .stream('usage', { valueSerde: jsonSerde<{ customer: string }>() })
      .selectKey((_k, v) => v.customer)
      .join(customers, (v, c) => `${v.customer}:${c.plan}`, { name: 'enrich' })
      .to('out');
    const topology = builder.build();
    expect([...topology.internalTopics.keys()]).toEqual(['enrich-repartition']);
    driver = await TopologyTestDriver.create(topology, { partitions: { usage: 2, customers: 2 } });
    await driver.inputTopic('customers', stringSerde, customerSerde).pipe('acme', { plan: 'pro' });
    await driver.inputTopic('usage', stringSerde, jsonSerde<{ customer: string }>()).pipe('x', { customer: 'acme' });
    expect(driver.outputTopic('out').readValues()).toEqual(['acme:pro']);
  });
});
