/**
 * Reading what the cluster has: which topics exist, their partition counts
 * and cleanup policies. One metadata request and one describe-configs
 * request for all topics.
 */
import kafkajs, { type Admin } from 'kafkajs';

export interface ExistingTopic {
  readonly name: string;
  readonly partitions: number;
  /** `cleanup.policy` as the broker reports it (explicit or the broker default), e.g. "delete" or "compact,delete". */
  readonly cleanupPolicy: string;
}

/** Which of `names` exist. */
export async function existingTopicNames(admin: Admin, names: readonly string[]): Promise<Set<string>> {
  const all = new Set(await admin.listTopics());
  return new Set(names.filter((name) => all.has(name)));
}

/** Partition count and cleanup policy of each named topic (all must exist). */
export async function describeTopics(admin: Admin, names: readonly string[]): Promise<Map<string, ExistingTopic>> {
  if (names.length === 0) return new Map();
  const metadata = await admin.fetchTopicMetadata({ topics: [...names] });
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: names.map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name, configNames: ['cleanup.policy'] })),
  });
  const policies = new Map(configs.resources.map((r) => [r.resourceName, r.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue ?? 'delete']));
  return new Map(
    metadata.topics.map((topic) => [topic.name, { name: topic.name, partitions: topic.partitions.length, cleanupPolicy: policies.get(topic.name) ?? 'delete' }]),
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
