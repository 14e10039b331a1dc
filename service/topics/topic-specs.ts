/**
 * What each of Tally's six external topics must look like: its cleanup
 * policy and why. Partition counts are shared (see `requiredPartitions`).
 */
import type { TallyConfig, TopicsConfig } from '../../schemas/index.js';

/** The `topics` keys of the config, in the order topics are checked and reported. */
export const topicRoles = ['events', 'customers', 'meters', 'billing', 'late', 'deadLetter'] as const satisfies readonly (keyof TopicsConfig)[];
export type TopicRole = (typeof topicRoles)[number];

export const cleanupPolicies = ['delete', 'compact'] as const;
export type CleanupPolicy = (typeof cleanupPolicies)[number];

export interface TopicSpec {
  readonly role: TopicRole;
  /** The physical topic name from the config. */
  readonly name: string;
  readonly cleanupPolicy: CleanupPolicy;
  /** Why this policy, for error messages. */
  readonly policyReason: string;
}

/** Default partition count for topics created when none exists yet to agree with. */
export const defaultTopicPartitions = 8;

const policyByRole: Record<TopicRole, { readonly policy: CleanupPolicy; readonly reason: string }> = {
  events: { policy: 'delete', reason: 'events may share a key, and compaction would drop all but the last of them' },
  customers: { policy: 'compact', reason: 'the customer table keeps the latest row per subject for ever' },
  meters: { policy: 'compact', reason: 'each window is re-emitted under one key; only the latest aggregate matters and it must not expire' },
  billing: { policy: 'compact', reason: 'each billing detail is revised under one key; the latest revision must not expire' },
  late: { policy: 'delete', reason: 'late-event records are an audit log and may share a key' },
  deadLetter: { policy: 'delete', reason: 'dead letters are an audit log and may share a key' },
};

/** The six topics of `config.topics`, in `topicRoles` order. */
export function topicSpecs(config: Pick<TallyConfig, 'topics'>): TopicSpec[] {
  return topicRoles.map((role) => ({ role, name: config.topics[role], cleanupPolicy: policyByRole[role].policy, policyReason: policyByRole[role].reason }));
}

/** `topics.events`, for messages: the config key and the topic. */
export function describeTopic(spec: Pick<TopicSpec, 'role' | 'name'>): string {
  return `topic "${spec.name}" (topics.${spec.role})`;
}

/**
 * The partition count every topic must have: `requested` when given, else
 * the events topic's (the runtime sizes the subject-keyed repartition topic
 * from the input, and the customers table must match it), else the first
 * existing topic's, else `defaultTopicPartitions`.
 */
export function requiredPartitions(specs: readonly TopicSpec[], counts: ReadonlyMap<string, number>, requested: number | undefined): { readonly count: number; readonly source: string } {
  if (requested !== undefined) return { count: requested, source: 'the requested partition count' };
  for (const spec of specs) {
    const count = counts.get(spec.name);
    if (count !== undefined) return { count, source: `${describeTopic(spec)}, which has ${count}` };
  }
  return { count: defaultTopicPartitions, source: 'the default' };
}
