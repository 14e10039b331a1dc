/**
 * Comparing the cluster with what Tally needs, topic by topic, and saying
 * what is wrong in words an operator can act on: the topic, what was found,
 * what is needed, why, and how to fix it.
 */
import { TallyError } from '../../schemas/index.js';
import type { ExistingTopic } from './topic-state.js';
import { describeTopic, type TopicSpec } from './topic-specs.js';

/** Every problem with the topics, one line each; thrown before anything is created. */
export class TopicsMismatchError extends TallyError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super('topics-mismatch', `Kafka topics do not fit Tally (${count}; nothing was changed):\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

export interface ProblemContext {
  readonly partitions: { readonly count: number; readonly source: string };
  /** A bootstrap address, quoted in the fix commands. */
  readonly bootstrap: string;
  /** Whether missing topics will be created (then they are not problems). */
  readonly create: boolean;
}

const partitionCount = (count: number): string => (count === 1 ? '1 partition' : `${count} partitions`);

function partitionReason(spec: TopicSpec): string {
  return spec.role === 'events' || spec.role === 'customers'
    ? 'the customers table is joined with the events by subject, so the two must be co-partitioned'
    : 'Tally keeps all nine topics at one partition count';
}

function partitionFix(spec: TopicSpec, found: number, needed: number, bootstrap: string): string {
  if (found < needed) {
    return `while it is still empty, add partitions with \`kafka-topics.sh --bootstrap-server ${bootstrap} --alter --topic ${spec.name} --partitions ${needed}\`; ` +
      'otherwise delete it and run `tally topics` to recreate it (adding partitions moves keys)';
  }
  return `partitions cannot be removed: delete it and run \`tally topics\` to recreate it with ${needed}, or make every topic have ${found} and pass --partitions ${found}`;
}

/** The problems of one topic (none when it fits). */
export function topicProblems(spec: TopicSpec, existing: ExistingTopic | undefined, context: ProblemContext): string[] {
  const needed = context.partitions.count;
  if (existing === undefined) {
    if (context.create) return [];
    const size = spec.messageBytes === undefined ? '' : `, max.message.bytes>=${spec.messageBytes.min}`;
    return [`${describeTopic(spec)} does not exist; needed: ${partitionCount(needed)}, cleanup.policy=${spec.cleanupPolicy}${size}. Fix: run \`tally topics --config FILE\` to create it`];
  }
  const problems: string[] = [];
  if (existing.partitions !== needed) {
    problems.push(
      `${describeTopic(spec)} has ${partitionCount(existing.partitions)}; needed: ${needed} (from ${context.partitions.source}), because ${partitionReason(spec)}. ` +
        `Fix: ${partitionFix(spec, existing.partitions, needed, context.bootstrap)}`,
    );
  }
  if (existing.cleanupPolicy !== spec.cleanupPolicy) {
    problems.push(
      `${describeTopic(spec)} has cleanup.policy=${existing.cleanupPolicy}; needed: cleanup.policy=${spec.cleanupPolicy}, because ${spec.policyReason}. ` +
        `Fix: \`kafka-configs.sh --bootstrap-server ${context.bootstrap} --alter --entity-type topics --entity-name ${spec.name} --add-config cleanup.policy=${spec.cleanupPolicy}\``,
    );
  }
  if (spec.messageBytes !== undefined && existing.maxMessageBytes < spec.messageBytes.min) {
    const { min, reason } = spec.messageBytes;
    problems.push(
      `${describeTopic(spec)} has max.message.bytes=${existing.maxMessageBytes}; needed: at least ${min}, because ${reason}. ` +
        `Fix: \`kafka-configs.sh --bootstrap-server ${context.bootstrap} --alter --entity-type topics --entity-name ${spec.name} --add-config max.message.bytes=${min}\``,
    );
  }
  return problems;
}
