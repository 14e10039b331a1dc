/**
 * What each of Tally's nine external topics must look like: its cleanup
 * policy and why, and for the late and dead-letter topics the smallest
 * `max.message.bytes`. Partition counts are shared (see `requiredPartitions`).
 */
import { defaultMaxEventBytes } from '../../processors/ingest/index.js';
import type { TallyConfig, TopicsConfig } from '../../schemas/index.js';

/** The `topics` keys of the config, in the order topics are checked and reported. */
export const topicRoles = ['events', 'customers', 'meters', 'billing', 'invoices', 'entitlements', 'alerts', 'late', 'deadLetter'] as const satisfies readonly (keyof TopicsConfig)[];
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
  /** Smallest `max.message.bytes` the topic must allow, and why; absent: any (the broker's default will do). */
  readonly messageBytes?: { readonly min: number; readonly reason: string };
}

/**
 * Room a dead letter or late-event record needs besides the original's bytes:
 * the envelope (reason, message, coordinates, event id and source), the key
 * (kept in the Kafka key and again in base64), headers and the batch framing.
 */
export const auditRecordAllowanceBytes = 128 * 1024;

/**
 * `max.message.bytes` the late and dead-letter topics must allow, for inputs
 * of up to `maxEventBytes`: the largest record Tally can write there is a
 * dead letter holding such an input whole in base64 (4 bytes for every 3),
 * plus `auditRecordAllowanceBytes`, rounded up to 64 KiB. For the default
 * 1 MiB input limit: 1572864 (1.5 MiB), above Kafka's default 1048588.
 */
export function auditTopicMaxMessageBytes(maxEventBytes: number = defaultMaxEventBytes): number {
  const base64Bytes = 4 * Math.ceil(maxEventBytes / 3);
  const stepBytes = 64 * 1024;
  return Math.ceil((base64Bytes + auditRecordAllowanceBytes) / stepBytes) * stepBytes;
}

/** Default partition count for topics created when none exists yet to agree with. */
export const defaultTopicPartitions = 8;

const policyByRole: Record<TopicRole, { readonly policy: CleanupPolicy; readonly reason: string }> = {
  events: { policy: 'delete', reason: 'events may share a key, and compaction would drop all but the last of them' },
  customers: { policy: 'compact', reason: 'the customer table keeps the latest row per subject for ever' },
  meters: { policy: 'compact', reason: 'each window is re-emitted under one key; only the latest aggregate matters and it must not expire' },
  billing: { policy: 'compact', reason: 'each billing detail is revised under one key; the latest revision must not expire' },
  invoices: { policy: 'compact', reason: 'each invoice is revised under one key (customer and billing period); the latest revision must not expire' },
  entitlements: { policy: 'compact', reason: 'each entitlement is revised under one key (customer, entitlement and billing period); the latest revision must not expire' },
  alerts: { policy: 'delete', reason: 'alerts are notifications, each written once under its own key; consumers act on them as they arrive' },
  late: { policy: 'delete', reason: 'late-event records are an audit log and may share a key' },
  deadLetter: { policy: 'delete', reason: 'dead letters are an audit log and may share a key' },
};

const messageBytesReasons: Partial<Record<TopicRole, string>> = {
  late: `a late-event record carries the whole event (up to ${defaultMaxEventBytes} bytes as sent, more once re-encoded as JSON) plus its envelope`,
  deadLetter: `a dead letter carries the refused input record (up to ${defaultMaxEventBytes} bytes, or more when its processing failed) in base64, a third larger, plus its envelope`,
};

/** The nine topics of `config.topics`, in `topicRoles` order. */
export function topicSpecs(config: Pick<TallyConfig, 'topics'>): TopicSpec[] {
  return topicRoles.map((role) => {
    const messageBytesReason = messageBytesReasons[role];
    return {
      role,
      name: config.topics[role],
      cleanupPolicy: policyByRole[role].policy,
      policyReason: policyByRole[role].reason,
      ...(messageBytesReason === undefined ? {} : { messageBytes: { min: auditTopicMaxMessageBytes(), reason: messageBytesReason } }),
    };
  });
}

/** The topic configs Tally sets when it creates the topic. */
export function topicConfigEntries(spec: TopicSpec): { name: string; value: string }[] {
  const entries: { name: string; value: string }[] = [{ name: 'cleanup.policy', value: spec.cleanupPolicy }];
  if (spec.messageBytes !== undefined) entries.push({ name: 'max.message.bytes', value: String(spec.messageBytes.min) });
  return entries;
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
