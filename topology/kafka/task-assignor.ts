/**
 * A kafkajs partition assigner that hands out whole tasks. A task is one
 * (sub-topology, partition): every source topic's partition p and every
 * changelog's partition p of that sub-topology go to the same member, so
 * co-partitioned inputs meet and a task restores its own state.
 *
 * Sticky: each member reports the tasks it owns in its metadata, and a task
 * stays with its owner while that keeps the balance; only the surplus moves.
 * The metadata also carries the member's query endpoint (`host:port`), which
 * others read back with a describe-group call to route interactive queries.
 */
import kafkajs, { type PartitionAssigner } from 'kafkajs';
import { TaskId } from '../task-id.js';

const { AssignerProtocol } = kafkajs;

/** What the assignor needs to know about a task: its id and the topics whose partition `id.partition` it consumes. */
export interface TaskSpec {
  readonly id: TaskId;
  readonly topics: readonly string[];
}

export const taskAssignorName = 'TallyTaskAssignor';

/** What a member tells the group about itself in its subscription's user data. */
export interface MemberInfo {
  /** Tasks it runs now (for stickiness). */
  readonly owned: string[];
  /** Where it answers interactive queries, if it does. */
  readonly server?: string;
}

/**
 * `tasks()` lists every task of the topology (it is asked at each rebalance);
 * `ownedTasks()` lists the tasks this member runs now, reported for stickiness;
 * `server` is this member's query endpoint.
 */
export function createTaskAssignor(tasks: () => readonly TaskSpec[], ownedTasks: () => readonly string[], server?: string): PartitionAssigner {
  return () => ({
    name: taskAssignorName,
    version: 1,
    protocol({ topics }) {
      return {
        name: taskAssignorName,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 1,
          topics,
          userData: Buffer.from(JSON.stringify({ owned: [...ownedTasks()], ...(server === undefined ? {} : { server }) } satisfies MemberInfo)),
        }),
      };
    },
    async assign({ members }) {
      const previous = new Map<string, string[]>();
      for (const member of members) {
        const metadata = AssignerProtocol.MemberMetadata.decode(member.memberMetadata);
        previous.set(member.memberId, parseMemberInfo(metadata?.userData).owned);
      }
      const plan = assignTasks(
        tasks().map((t) => t.id.key),
        previous,
      );
      const byId = new Map(tasks().map((t) => [t.id.key, t]));
      return [...plan].map(([memberId, taskIds]) => {
        const assignment: Record<string, number[]> = {};
        for (const taskId of taskIds) {
          const task = byId.get(taskId);
          if (task === undefined) continue;
          for (const topic of task.topics) (assignment[topic] ??= []).push(task.id.partition);
        }
        return { memberId, memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment, userData: Buffer.alloc(0) }) };
      });
    },
  });
}

function parseMemberInfo(userData: Buffer | undefined): MemberInfo {
  if (userData === undefined || userData.length === 0) return { owned: [] };
  try {
    const parsed = JSON.parse(userData.toString('utf8')) as { owned?: unknown; server?: unknown } | unknown[];
    // Members of older versions sent the bare list of owned tasks.
    const owned: unknown = Array.isArray(parsed) ? parsed : parsed.owned;
    const server = Array.isArray(parsed) || typeof parsed.server !== 'string' ? undefined : parsed.server;
    return { owned: Array.isArray(owned) ? owned.filter((t): t is string => typeof t === 'string') : [], ...(server === undefined ? {} : { server }) };
  } catch {
    return { owned: [] };
  }
}

/** One group member as a describe-group call shows it: its query endpoint and its assigned topic partitions. */
export interface GroupMemberView {
  readonly memberId: string;
  readonly server: string | undefined;
  readonly assignment: Readonly<Record<string, number[]>>;
}

/** Decodes a member of `admin.describeGroups()` (metadata and assignment are this assignor's encoding). */
export function decodeGroupMember(member: { memberId: string; memberMetadata: Buffer; memberAssignment: Buffer }): GroupMemberView {
  const metadata = member.memberMetadata.length === 0 ? null : AssignerProtocol.MemberMetadata.decode(member.memberMetadata);
  const assignment = member.memberAssignment.length === 0 ? null : AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
  return { memberId: member.memberId, server: parseMemberInfo(metadata?.userData).server, assignment: assignment?.assignment ?? {} };
}

/**
 * Balanced, sticky, deterministic: every member gets floor or ceil of
 * tasks/members; a task stays with its previous owner while that owner has
 * room; the rest go, in task order, to the member with the fewest tasks
 * (ties by member id).
 */
export function assignTasks(taskIds: readonly string[], previous: ReadonlyMap<string, readonly string[]>): Map<string, string[]> {
  const members = [...previous.keys()].sort();
  const plan = new Map<string, string[]>(members.map((m) => [m, []]));
  if (members.length === 0) return plan;
  const base = Math.floor(taskIds.length / members.length);
  let roomForOneMore = taskIds.length % members.length;
  const capacity = new Map(members.map((m) => [m, base]));
  const owner = new Map<string, string>();
  for (const member of members) for (const task of previous.get(member) ?? []) if (!owner.has(task)) owner.set(task, member);

  const unassigned: string[] = [];
  for (const task of [...taskIds].sort(compareTaskIds)) {
    const member = owner.get(task);
    const tasks = member === undefined ? undefined : plan.get(member);
    if (member !== undefined && tasks !== undefined) {
      if (tasks.length < (capacity.get(member) ?? 0)) {
        tasks.push(task);
        continue;
      }
      if (tasks.length === (capacity.get(member) ?? 0) && roomForOneMore > 0) {
        capacity.set(member, (capacity.get(member) ?? 0) + 1);
        roomForOneMore--;
        tasks.push(task);
        continue;
      }
    }
    unassigned.push(task);
  }
  for (const task of unassigned) {
    const target = members
      .filter((m) => (plan.get(m)?.length ?? 0) < (capacity.get(m) ?? 0) || roomForOneMore > 0)
      .sort((a, b) => (plan.get(a)?.length ?? 0) - (plan.get(b)?.length ?? 0) || a.localeCompare(b))[0] as string;
    const tasks = plan.get(target) as string[];
    if (tasks.length >= (capacity.get(target) ?? 0)) {
      capacity.set(target, (capacity.get(target) ?? 0) + 1);
      roomForOneMore--;
    }
    tasks.push(task);
  }
  return plan;
}

/** Task ids in their string form, as TaskId.compare orders them (`1_10` after `1_9`). */
export function compareTaskIds(a: string, b: string): number {
  return TaskId.compare(TaskId.parse(a), TaskId.parse(b));
}
