/**
 * The topics an application reads, writes and owns: partition counts of its
 * source topics (checked for co-partitioning), and creation or verification
 * of its internal topics — repartition topics and changelogs.
 */
import type { Admin, ITopicConfig } from 'kafkajs';
import { TopologyError } from '../../schemas/index.js';
import { changelogTopicName, internalTopicName } from '../internal/topic-names.js';
import { TaskId } from '../task-id.js';
import type { Topology } from '../topology.js';
import { progressChangelogTopic } from './kafka-task.js';
import { withRetries } from './kafka-io.js';
import type { TaskSpec } from './task-assignor.js';

/**
 * Repartition topics carry what the topology re-encodes, which can be larger
 * than what came in (an accepted event near the input limit, re-encoded as
 * JSON, with numbers written out), in batches of several records: room for
 * that, so one large record is never refused at the commit and retried for ever.
 */
const repartitionMaxMessageBytes = 8 * 1024 * 1024;

/** Extra retention on window-store changelogs, beyond the store's own (as Kafka Streams does). */
const windowChangelogExtraRetentionMs = 24 * 60 * 60 * 1000;

export interface TopicPlan {
  /** Partition count per sub-topology id. */
  readonly partitions: ReadonlyMap<number, number>;
  /** Every task of the topology with the physical topics it consumes. */
  readonly tasks: readonly TaskSpec[];
  /** Physical source topic → logical name and sub-topology. */
  readonly sources: ReadonlyMap<string, { readonly logical: string; readonly subtopology: number }>;
  /** Every changelog topic (the progress changelogs included). */
  readonly changelogs: ReadonlySet<string>;
  /** Physical repartition (internal source) topic → its partition count. */
  readonly repartitions: ReadonlyMap<string, number>;
  /**
   * Physical sink or dead-letter topic → its partition count, as read at
   * start-up: what a sink's custom partitioner is told, and what a task
   * chooses a record's default partition among. Output topics that do not
   * exist yet are missing (unless a custom partitioner needs them: then the
   * plan fails).
   */
  readonly sinkPartitions: ReadonlyMap<string, number>;
}

/**
 * Reads source partition counts, checks co-partitioning, creates missing
 * internal topics and verifies existing ones. Fails with a message that names
 * the topic and says what to do.
 */
export async function planTopics(admin: Admin, topology: Topology, applicationId: string, replicationFactor: number): Promise<TopicPlan> {
  const external = [...new Set(topology.sourceTopics.filter((t) => !topology.isInternalTopic(t)))];
  const existing = new Set(await admin.listTopics());
  const missing = external.filter((t) => !existing.has(t));
  if (missing.length > 0) {
    throw new TopologyError('source-topic-missing', `source topic(s) ${missing.map((t) => `"${t}"`).join(', ')} do not exist: create them first (e.g. \`tally topics\`)`);
  }
  const counts = await partitionCounts(admin, external);
  const maxExternal = Math.max(1, ...counts.values());
  const physical = (logical: string) => (topology.isInternalTopic(logical) ? internalTopicName(applicationId, logical) : logical);
  const countOf = (logical: string) => (topology.isInternalTopic(logical) ? (topology.internalTopics.get(logical)?.partitions ?? maxExternal) : (counts.get(logical) ?? 0));

  const partitions = new Map<number, number>();
  const tasks: TaskSpec[] = [];
  const sources = new Map<string, { logical: string; subtopology: number }>();
  const changelogs = new Set<string>();
  const repartitions = new Map<string, number>();
  const wanted: ITopicConfig[] = [];
  for (const sub of topology.subtopologies) {
    const subCounts = sub.sourceTopics.map(countOf);
    const count = subCounts[0] ?? 1;
    if (subCounts.some((c) => c !== count)) {
      const detail = sub.sourceTopics.map((t, i) => `${t}: ${subCounts[i]}`).join(', ');
      throw new TopologyError('topology-not-copartitioned', `sub-topology ${sub.id} reads topics with different partition counts (${detail}): give them the same number of partitions`);
    }
    partitions.set(sub.id, count);
    for (const logical of sub.sourceTopics) {
      sources.set(physical(logical), { logical, subtopology: sub.id });
      if (!topology.isInternalTopic(logical)) continue;
      repartitions.set(physical(logical), count);
      wanted.push(topicConfig(physical(logical), count, replicationFactor, { 'cleanup.policy': 'delete', 'retention.ms': '-1', 'max.message.bytes': String(repartitionMaxMessageBytes) }));
    }
    const subChangelogs: string[] = [progressChangelogTopic(applicationId, sub.id)];
    wanted.push(topicConfig(subChangelogs[0] as string, count, replicationFactor, { 'cleanup.policy': 'compact' }));
    for (const store of sub.stores) {
      if (!store.logging) continue;
      const topic = changelogTopicName(applicationId, store.name);
      subChangelogs.push(topic);
      const config: Record<string, string> =
        store.kind === 'window'
          ? { 'cleanup.policy': 'compact,delete', 'retention.ms': String((store.retentionMs ?? 0) + windowChangelogExtraRetentionMs) }
          : { 'cleanup.policy': 'compact' };
      wanted.push(topicConfig(topic, count, replicationFactor, config));
    }
    for (const topic of subChangelogs) changelogs.add(topic);
    const topics = [...sub.sourceTopics.map(physical), ...subChangelogs];
    for (let p = 0; p < count; p++) tasks.push({ id: new TaskId(sub.id, p), topics });
  }
  await ensureTopics(admin, wanted, existing);
  const sinkPartitions = await planSinks(admin, topology, existing, (logical) => (topology.isInternalTopic(logical) ? repartitions.get(physical(logical)) : undefined));
  return { partitions, tasks, sources, changelogs, repartitions, sinkPartitions: new Map([...sinkPartitions].map(([logical, count]) => [physical(logical), count])) };
}

async function partitionCounts(admin: Admin, topics: readonly string[]): Promise<Map<string, number>> {
  if (topics.length === 0) return new Map();
  const metadata = await withRetries('reading topic metadata', () => admin.fetchTopicMetadata({ topics: [...topics] }));
  return new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
}

/**
 * Partition counts of the sink topics (logical name → count): internal ones
 * from the plan, external ones from the broker. A sink with a custom
 * partitioner is told the count with every record, so its topic must exist.
 */
async function planSinks(admin: Admin, topology: Topology, existing: ReadonlySet<string>, internalCount: (logical: string) => number | undefined): Promise<Map<string, number>> {
  const result = new Map<string, number>();
  const external: string[] = [];
  for (const logical of new Set([...topology.sinkTopics, ...topology.deadLetterTopics])) {
    const internal = topology.isInternalTopic(logical) ? internalCount(logical) : undefined;
    if (internal !== undefined) result.set(logical, internal);
    else if (!topology.isInternalTopic(logical) && existing.has(logical)) external.push(logical);
  }
  for (const [topic, count] of await partitionCounts(admin, external)) result.set(topic, count);
  const partitioned = topology.subtopologies.flatMap((sub) => sub.nodes).flatMap((node) => (node.kind === 'sink' && node.partitioner !== undefined ? [node.topic] : []));
  const missing = [...new Set(partitioned)].filter((t) => !result.has(t));
  if (missing.length > 0) {
    throw new TopologyError('sink-topic-missing', `sink topic(s) ${missing.map((t) => `"${t}"`).join(', ')} do not exist, and a custom partitioner needs their partition count: create them first (e.g. \`tally topics\`)`);
  }
  return result;
}

function topicConfig(topic: string, numPartitions: number, replicationFactor: number, config: Record<string, string>): ITopicConfig {
  return { topic, numPartitions, replicationFactor, configEntries: Object.entries(config).map(([name, value]) => ({ name, value })) };
}

async function ensureTopics(admin: Admin, wanted: readonly ITopicConfig[], existing: ReadonlySet<string>): Promise<void> {
  const toCreate = wanted.filter((t) => !existing.has(t.topic));
  if (toCreate.length > 0) {
    // kafkajs returns false when another instance created them first (verified below); right
    // after creation the broker may still answer "unknown topic", which is worth a retry.
    await withRetries('creating internal topics', () => admin.createTopics({ topics: [...toCreate], waitForLeaders: true }));
  }
  const toVerify = toCreate.length > 0 ? wanted : wanted.filter((t) => existing.has(t.topic));
  if (toVerify.length === 0) return;
  const metadata = await withRetries('reading internal topic metadata', () => admin.fetchTopicMetadata({ topics: toVerify.map((t) => t.topic) }));
  for (const topic of metadata.topics) {
    const expected = toVerify.find((t) => t.topic === topic.name)?.numPartitions;
    if (expected !== undefined && topic.partitions.length !== expected) {
      throw new TopologyError(
        'internal-topic-mismatch',
        `internal topic "${topic.name}" has ${topic.partitions.length} partitions but the topology needs ${expected}: the input's partition count changed; reset the application (delete its internal topics and state) to repartition`,
      );
    }
  }
}
