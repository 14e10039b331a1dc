/**
 * A stream joined to a table, started against a backlog on both: every
 * stream record must meet the table as it stood when the task started, so a
 * left join never says "no row" for a key the table topic already holds.
 * Without bootstrapping, kafkajs fetches both partitions together and the
 * stream overtakes the table.
 */
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { stringSerde } from '../../schemas/index.js';
import { StreamsBuilder } from '../../topology/index.js';
import { createApp, type KafkaApp } from '../../topology/kafka/index.js';
import { brokers, createTopics, produce, readTopic, tempStateDir, uniqueName, waitFor } from './kafka-helpers.js';

const apps: KafkaApp[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const quiet = { info: () => undefined, warn: () => undefined, error: (m: string) => console.error(m) };

describe('a stream joined to a table, with a backlog on both', () => {
  it.each(['exactly_once', 'at_least_once'] as const)('joins every record to the table rows that were already there (%s)', async (guarantee) => {
    const topics = { customers: uniqueName('customers'), usage: uniqueName('usage'), out: uniqueName('joined') };
    await createTopics({ [topics.customers]: 2, [topics.usage]: 2, [topics.out]: 2 });
    const keys = Array.from({ length: 300 }, (_, i) => `customer-${i}`);
    // Usage first, then the table: the table's records are the newer ones on the broker.
    await produce(topics.usage, keys.flatMap((key) => [1, 2, 3].map((n) => ({ key, value: `${key}-use-${n}` }))));
    await produce(topics.customers, keys.map((key) => ({ key, value: JSON.stringify({ plan: `plan-of-${key}` }) })));

    // The stream is declared (and so subscribed and fetched) before the table.
    const builder = new StreamsBuilder();
    const usage = builder.stream(topics.usage, { valueSerde: stringSerde });
    const customers = builder.table<{ plan: string }>(topics.customers, { name: 'customers-table' });
    usage
      .leftJoin(customers, (record, customer) => `${record}:${customer?.plan ?? 'NO-ROW'}`)
      .to(topics.out, { valueSerde: stringSerde });
    const stateDir = await tempStateDir();
    dirs.push(stateDir);
    const app = createApp(builder.build(), { applicationId: uniqueName('bootstrap'), brokers: brokers(), stateDir, processingGuarantee: guarantee, commitIntervalMs: 100, logger: quiet });
    apps.push(app);
    await app.start();

    let joined: string[] = [];
    await waitFor('every usage record joined', async () => {
      joined = (await readTopic(topics.out)).map((r) => r.value ?? '');
      return joined.length >= keys.length * 3;
    }, 60_000);
    expect(joined.filter((v) => v.endsWith(':NO-ROW'))).toEqual([]);
    expect(joined.sort()).toEqual(keys.flatMap((key) => [1, 2, 3].map((n) => `${key}-use-${n}:plan-of-${key}`)).sort());
  });
});
