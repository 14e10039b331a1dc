/**
 * Reading what the cluster has: which topics exist, their partition counts,
 * cleanup policies and `max.message.bytes`. One metadata request and one
 * describe-configs request for all topics.
 */
import kafkajs, { type Admin } from 'kafkajs';

export interface ExistingTopic {
  readonly name: string;
  readonly partitions: number;
  /** `cleanup.policy` as the broker reports it (explicit or the broker default), e.g. "delete" or "compact,delete". */
  readonly cleanupPolicy: string;
  /** `max.message.bytes` as the broker reports it (explicit or the broker default). */
  readonly maxMessageBytes: number;
}

/** Kafka's default `max.message.bytes` (the broker's `message.max.bytes`), for a broker that does not report it. */
export const kafkaDefaultMaxMessageBytes = 1_048_588;

/** Which of `names` exist. */
export async function existingTopicNames(admin: Admin, names: readonly string[]): Promise<Set<string>> {
  const all = new Set(await admin.listTopics());
  return new Set(names.filter((name) => all.has(name)));
}

/** Partition count, cleanup policy and `max.message.bytes` of each named topic (all must exist). */
export async function describeTopics(admin: Admin, names: readonly string[]): Promise<Map<string, ExistingTopic>> {
  if (names.length === 0) return new Map();
  const metadata = await admin.fetchTopicMetadata({ topics: [...names] });
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: names.map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name, configNames: ['cleanup.policy', 'max.message.bytes'] })),
  });
  const found = new Map(configs.resources.map((r) => [r.resourceName, r.configEntries]));
  const value = (topic: string, config: string): string | undefined => found.get(topic)?.find((e) => e.configName === config)?.configValue;
  return new Map(
    metadata.topics.map((topic) => [
      topic.name,
      {
        name: topic.name,
        partitions: topic.partitions.length,
        cleanupPolicy: value(topic.name, 'cleanup.policy') ?? 'delete',
        maxMessageBytes: Number(value(topic.name, 'max.message.bytes') ?? kafkaDefaultMaxMessageBytes),
      },
    ]),
  );
}

const leaderWaitMs = 30_000;
const leaderPollMs = 100;

/**
 * Waits until every partition of `names` has a leader. A topic the broker
 * does not know yet (just created) or a partition without a leader is asked
 * again; anything else fails at once.
 */
export async function waitForLeaders(admin: Admin, names: readonly string[]): Promise<void> {
  const deadline = Date.now() + leaderWaitMs;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [...names] });
      if (metadata.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (error) {
      const type = (error as { type?: string }).type;
      if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE') throw error;
    }
    if (Date.now() > deadline) throw new Error(`topics ${names.join(', ')} have no leader after ${leaderWaitMs / 1000} s; is the cluster healthy?`);
    await new Promise((resolve) => setTimeout(resolve, leaderPollMs));
  }
}
