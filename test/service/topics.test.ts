/**
 * `ensureTopics` against the run's real broker: creating Tally's nine topics
 * from nothing, verifying them again without changes, and refusing
 * mismatched partition counts, wrong cleanup policies and missing topics with
 * one error that names every offending topic.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig, type TallyConfig } from '../../schemas/index.js';
import { auditTopicMaxMessageBytes, ensureTopics, kafkaDefaultMaxMessageBytes, TopicsMismatchError } from '../../service/topics/index.js';
import { brokers, kafkaClient, uniqueName } from '../kafka/kafka-helpers.js';
import { createTopicsWithPolicy } from './topics-fixtures.js';

function configWithUniqueTopics(): TallyConfig {
  const id = uniqueName('topics');
  const document = {
    kafka: { brokers: brokers() },
    topics: { events: `${id}-events`, meters: `${id}-meters`, billing: `${id}-billing`, late: `${id}-late`, deadLetter: `${id}-dead`, customers: `${id}-customers`, invoices: `${id}-invoices`, entitlements: `${id}-entitlements`, alerts: `${id}-alerts` },
    meters: [{ slug: 'api_requests', eventType: 'api.request', aggregation: 'COUNT' }],
  };
  return parseConfig(JSON.stringify(document), 'topics-test tally.yaml');
}

async function maxMessageBytesOnBroker(names: readonly string[]): Promise<Record<string, string | undefined>> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    const configs = await admin.describeConfigs({ includeSynonyms: false, resources: names.map((name) => ({ type: 2, name, configNames: ['max.message.bytes'] })) });
    return Object.fromEntries(configs.resources.map((r) => [r.resourceName, r.configEntries[0]?.configValue]));
  } finally {
    await admin.disconnect();
  }
}

async function describeOnBroker(names: readonly string[]): Promise<Map<string, { partitions: number; policy: string | undefined }>> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = names.filter((n) => existing.has(n));
    if (present.length === 0) return new Map();
    const metadata = await admin.fetchTopicMetadata({ topics: present });
    const configs = await admin.describeConfigs({ includeSynonyms: false, resources: present.map((name) => ({ type: 2, name, configNames: ['cleanup.policy'] })) });
    const policies = new Map(configs.resources.map((r) => [r.resourceName, r.configEntries[0]?.configValue]));
    return new Map(metadata.topics.map((t) => [t.name, { partitions: t.partitions.length, policy: policies.get(t.name) }]));
  } finally {
    await admin.disconnect();
  }
}

async function refusal(run: Promise<unknown>): Promise<TopicsMismatchError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TopicsMismatchError);
  return error as TopicsMismatchError;
}

describe('ensureTopics', () => {
  it('creates all nine topics from nothing with one partition count and the right cleanup policies, then verifies them unchanged', async () => {
    const config = configWithUniqueTopics();
    const progress: string[] = [];
    const first = await ensureTopics(config, { create: true, partitions: 3, onProgress: (line) => progress.push(line) });
    const t = config.topics;
    expect([...first.created].sort()).toEqual([t.events, t.meters, t.billing, t.invoices, t.entitlements, t.alerts, t.late, t.deadLetter, t.customers].sort());
    expect(first.verified).toEqual([]);
    expect(progress).toContain('topics: checked 9/9, 0 exist, 9 missing, 0 problems');

    const onBroker = await describeOnBroker(Object.values(t));
    expect(Object.fromEntries(onBroker)).toEqual({
      [t.events]: { partitions: 3, policy: 'delete' },
      [t.customers]: { partitions: 3, policy: 'compact' },
      [t.meters]: { partitions: 3, policy: 'compact' },
      [t.billing]: { partitions: 3, policy: 'compact' },
      [t.invoices]: { partitions: 3, policy: 'compact' },
      [t.entitlements]: { partitions: 3, policy: 'compact' },
      [t.alerts]: { partitions: 3, policy: 'delete' },
      [t.late]: { partitions: 3, policy: 'delete' },
      [t.deadLetter]: { partitions: 3, policy: 'delete' },
    });

    // Verify only: the existing count is taken from the events topic, nothing is created.
    const again = await ensureTopics(config, { create: false });
    expect(again.created).toEqual([]);
    expect(again.verified).toHaveLength(9);
    expect(Object.fromEntries(await describeOnBroker(Object.values(t)))).toEqual(Object.fromEntries(onBroker));
  });

  it('sizes the late and dead-letter topics for a dead letter of the largest input: base64 plus the envelope, 1.5 MiB', async () => {
    // 1 MiB in base64 is 1398104 bytes; with 128 KiB for the envelope, key, headers and framing, rounded up to 64 KiB.
    expect(auditTopicMaxMessageBytes()).toBe(1_572_864);
    expect(auditTopicMaxMessageBytes(3)).toBe(196_608);
    const config = configWithUniqueTopics();
    await ensureTopics(config, { create: true, partitions: 1 });
    const t = config.topics;
    expect(await maxMessageBytesOnBroker([t.late, t.deadLetter, t.events, t.meters])).toEqual({
      [t.late]: '1572864',
      [t.deadLetter]: '1572864',
      [t.events]: String(kafkaDefaultMaxMessageBytes),
      [t.meters]: String(kafkaDefaultMaxMessageBytes),
    });
  });

  it('refuses late and dead-letter topics that allow smaller records, naming the value needed and the kafka-configs fix', async () => {
    const config = configWithUniqueTopics();
    await createTopicsWithPolicy({ [config.topics.late]: 1, [config.topics.deadLetter]: 1 }, 'delete');
    const error = await refusal(ensureTopics(config, { create: true }));
    expect(error.problems).toEqual([
      `topic "${config.topics.late}" (topics.late) has max.message.bytes=1048588; needed: at least 1572864, because a late-event record carries the whole event (up to 1048576 bytes as sent, more once re-encoded as JSON) plus its envelope. ` +
        `Fix: \`kafka-configs.sh --bootstrap-server ${brokers()[0]} --alter --entity-type topics --entity-name ${config.topics.late} --add-config max.message.bytes=1572864\``,
      `topic "${config.topics.deadLetter}" (topics.deadLetter) has max.message.bytes=1048588; needed: at least 1572864, because a dead letter carries the refused input record (up to 1048576 bytes, or more when its processing failed) in base64, a third larger, plus its envelope. ` +
        `Fix: \`kafka-configs.sh --bootstrap-server ${brokers()[0]} --alter --entity-type topics --entity-name ${config.topics.deadLetter} --add-config max.message.bytes=1572864\``,
    ]);
  });

  it('creates the missing topics with the partition count of the existing events topic', async () => {
    const config = configWithUniqueTopics();
    await createTopicsWithPolicy({ [config.topics.events]: 2 }, 'delete');
    const report = await ensureTopics(config, { create: true });
    expect(report.verified).toEqual([config.topics.events]);
    expect(report.created).toHaveLength(8);
    const onBroker = await describeOnBroker(Object.values(config.topics));
    expect([...onBroker.values()].map((t) => t.partitions)).toEqual([2, 2, 2, 2, 2, 2, 2, 2, 2]);
  });

  it('refuses a customers topic that is not co-partitioned with the events, naming it, and creates nothing', async () => {
    const config = configWithUniqueTopics();
    await createTopicsWithPolicy({ [config.topics.events]: 3 }, 'delete');
    await createTopicsWithPolicy({ [config.topics.customers]: 2 }, 'compact');
    const error = await refusal(ensureTopics(config, { create: true }));
    expect(error.code).toBe('topics-mismatch');
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toContain(`topic "${config.topics.customers}" (topics.customers) has 2 partitions; needed: 3`);
    expect(error.problems[0]).toContain('co-partitioned');
    expect(error.problems[0]).toContain(`--alter --topic ${config.topics.customers} --partitions 3`);
    expect(error.message).toContain('nothing was changed');
    expect([...(await describeOnBroker(Object.values(config.topics))).keys()].sort()).toEqual([config.topics.customers, config.topics.events].sort());
  });

  it('refuses an explicit partition count the existing topics do not have', async () => {
    const config = configWithUniqueTopics();
    await ensureTopics(config, { create: true, partitions: 2 });
    const error = await refusal(ensureTopics(config, { create: true, partitions: 4 }));
    expect(error.problems).toHaveLength(9);
    expect(error.problems[0]).toContain(`topic "${config.topics.events}" (topics.events) has 2 partitions; needed: 4 (from the requested partition count)`);
  });

  it('refuses wrong cleanup policies, listing every offending topic in one error', async () => {
    const config = configWithUniqueTopics();
    await createTopicsWithPolicy({ [config.topics.events]: 2 }, 'compact');
    await createTopicsWithPolicy({ [config.topics.meters]: 2, [config.topics.billing]: 2 }, 'delete');
    await createTopicsWithPolicy({ [config.topics.customers]: 2 }, 'compact,delete');
    const error = await refusal(ensureTopics(config, { create: true }));
    expect(error.problems).toHaveLength(4);
    const [events, customers, meters, billing] = error.problems;
    expect(events).toContain(`topic "${config.topics.events}" (topics.events) has cleanup.policy=compact; needed: cleanup.policy=delete`);
    expect(customers).toContain(`topic "${config.topics.customers}" (topics.customers) has cleanup.policy=compact,delete; needed: cleanup.policy=compact`);
    expect(meters).toContain(`topic "${config.topics.meters}" (topics.meters) has cleanup.policy=delete; needed: cleanup.policy=compact`);
    expect(meters).toContain(`--entity-name ${config.topics.meters} --add-config cleanup.policy=compact`);
    expect(billing).toContain(`topic "${config.topics.billing}" (topics.billing)`);
  });

  it('with create off, refuses missing topics and says how to create them', async () => {
    const config = configWithUniqueTopics();
    await createTopicsWithPolicy({ [config.topics.events]: 1 }, 'delete');
    const error = await refusal(ensureTopics(config, { create: false }));
    expect(error.problems).toHaveLength(8);
    expect(error.problems[0]).toBe(
      `topic "${config.topics.customers}" (topics.customers) does not exist; needed: 1 partition, cleanup.policy=compact. Fix: run \`tally topics --config FILE\` to create it`,
    );
  });
});
