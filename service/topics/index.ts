/**
 * The topics Tally reads and writes (docs/service-topics.md): their partition
 * counts, cleanup policies and (late and dead-letter topics) the record size
 * they allow, created when asked, verified always.
 * `tally topics` creates or checks them; `tally run` refuses to start against
 * mismatched ones. See docs/service-topics.md.
 */
import type { TallyConfig } from '../../schemas/index.js';
import { topicProblems, TopicsMismatchError } from './topic-problems.js';
import { kafkaClient } from '../kafka-connection.js';
import { describeTopics, existingTopicNames, waitForLeaders } from './topic-state.js';
import { requiredPartitions, topicConfigEntries, topicSpecs, type TopicSpec } from './topic-specs.js';

export { TopicsMismatchError } from './topic-problems.js';
export { kafkaDefaultMaxMessageBytes, waitForLeaders, type ExistingTopic } from './topic-state.js';
export {
  auditRecordAllowanceBytes,
  auditTopicMaxMessageBytes,
  cleanupPolicies,
  defaultTopicPartitions,
  topicRoles,
  topicSpecs,
  type CleanupPolicy,
  type TopicRole,
  type TopicSpec,
} from './topic-specs.js';

export interface TopicCheckOptions {
  /** Create missing topics (else a missing topic is a problem). */
  readonly create: boolean;
  /**
   * Partitions every topic must have. Default: the events topic's count when it
   * exists (else the first existing topic's), else 8 for a fresh cluster.
   */
  readonly partitions?: number;
  /** Replication factor for topics it creates; default -1 (the broker's default). */
  readonly replicationFactor?: number;
  /** Progress lines with counts (e.g. "topics: checked 4/6, 2 missing"). */
  readonly onProgress?: (line: string) => void;
}

export interface TopicCheckReport {
  /** Topics created by this call. */
  readonly created: readonly string[];
  /** Topics that existed and fit. */
  readonly verified: readonly string[];
  /** The partition count all nine topics have. */
  readonly partitions: number;
}

/**
 * Checks the nine topics of `config.topics`: all must have the same partition
 * count, and `cleanup.policy` delete (events, late, dead letters) or compact
 * (customers, meters, billing); the late and dead-letter topics must allow
 * records of `auditTopicMaxMessageBytes()` (`max.message.bytes`). With
 * `create`, missing topics are created to fit. Nothing is created unless
 * every existing topic fits.
 * @throws TopicsMismatchError (code `topics-mismatch`) listing every problem
 */
export async function ensureTopics(config: TallyConfig, options: TopicCheckOptions): Promise<TopicCheckReport> {
  if (options.partitions !== undefined && (!Number.isInteger(options.partitions) || options.partitions < 1)) {
    throw new RangeError(`partitions must be a whole number >= 1, got ${options.partitions}`);
  }
  const specs = topicSpecs(config);
  const progress = options.onProgress ?? (() => undefined);
  const admin = kafkaClient(config, `${config.app.id}-topics`).admin();
  await admin.connect();
  try {
    // 1. What exists, with partition counts and cleanup policies.
    const names = specs.map((s) => s.name);
    const existing = await describeTopics(admin, [...(await existingTopicNames(admin, names))]);
    const counts = new Map([...existing.values()].map((t) => [t.name, t.partitions]));
    const partitions = requiredPartitions(specs, counts, options.partitions);
    const context = { partitions, bootstrap: config.kafka.brokers[0] ?? 'HOST:PORT', create: options.create };

    // 2. Every problem, before anything changes.
    const problems: string[] = [];
    const missing: TopicSpec[] = [];
    specs.forEach((spec, index) => {
      if (!existing.has(spec.name)) missing.push(spec);
      problems.push(...topicProblems(spec, existing.get(spec.name), context));
      progress(`topics: checked ${index + 1}/${specs.length}, ${existing.size} exist, ${missing.length} missing, ${problems.length} problems`);
    });
    if (problems.length > 0) throw new TopicsMismatchError(problems);

    // 3. Create what is missing, then check it like the rest (another process may have created it first).
    if (missing.length === 0) return { created: [], verified: names, partitions: partitions.count };
    // Not kafkajs' waitForLeaders: right after a create, a KRaft broker briefly answers "unknown topic",
    // which that wait does not retry (waitForLeaders below does).
    await admin.createTopics({
      waitForLeaders: false,
      topics: missing.map((spec) => ({
        topic: spec.name,
        numPartitions: partitions.count,
        replicationFactor: options.replicationFactor ?? -1,
        configEntries: topicConfigEntries(spec),
      })),
    });
    await waitForLeaders(admin, missing.map((s) => s.name));
    progress(`topics: created ${missing.length}/${missing.length} (${missing.map((s) => s.name).join(', ')})`);
    const created = await describeTopics(admin, missing.map((s) => s.name));
    const afterProblems = missing.flatMap((spec) => topicProblems(spec, created.get(spec.name), { ...context, create: false }));
    if (afterProblems.length > 0) throw new TopicsMismatchError(afterProblems);
    return { created: missing.map((s) => s.name), verified: names.filter((n) => existing.has(n)), partitions: partitions.count };
  } finally {
    await admin.disconnect();
  }
}
