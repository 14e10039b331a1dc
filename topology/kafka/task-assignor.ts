/**
 * A kafkajs partition assigner that hands out whole tasks. A task is one
 * (sub-topology, partition): every source topic's partition p and every
 * changelog's partition p of that sub-topology go to the same member, so
 * co-partitioned inputs meet and a task restores its own state.
 *
 * Sticky: each member reports the tasks it owns in its metadata, and a task
 * stays with its owner while that keeps the balance; only the surplus moves.
 */
import kafkajs, { type PartitionAssigner } from 'kafkajs';

const { AssignerProtocol } = kafkajs;

/** What the assignor needs to know about a task: its id and every topic-partition it consumes. */
export interface TaskSpec {
  readonly id: string;
  readonly topics: readonly string[];
  readonly partition: number;
}

export const taskAssignorName = 'TallyTaskAssignor';

/**
 * `tasks()` lists every task of the topology (it is asked at each rebalance);
 * `ownedTasks()` lists the tasks this member runs now, reported for stickiness.
 */
export function createTaskAssignor(tasks: () => readonly TaskSpec[], ownedTasks: () => readonly string[]): PartitionAssigner {
  return () => ({
    name: taskAssignorName,
    version: 1,
    protocol({ topics }) {
      return {
        name: taskAssignorName,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 1,
          topics,
          userData: Buffer.from(JSON.stringify(ownedTasks())),
        }),
      };
    },
    async assign({ members }) {
      const previous = new Map<string, string[]>();
      for (const member of members) {
        const metadata = AssignerProtocol.MemberMetadata.decode(member.memberMetadata);
        previous.set(member.memberId, parseOwned(metadata?.userData));
      }
      const plan = assignTasks(
        tasks().map((t) => t.id),
        previous,
      );
      const byId = new Map(tasks().map((t) => [t.id, t]));
      return [...plan].map(([memberId, taskIds]) => {
        const assignment: Record<string, number[]> = {};
        for (const taskId of taskIds) {
          const task = byId.get(taskId);
          if (task === undefined) continue;
          for (const topic of task.topics) (assignment[topic] ??= []).push(task.partition);
        }
        return { memberId, memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment, userData: Buffer.alloc(0) }) };
      });
    },
  });
}

function parseOwned(userData: Buffer | undefined): string[] {
  if (userData === undefined || userData.length === 0) return [];
  try {
    const parsed: unknown = JSON.parse(userData.toString('utf8'));
    return Array.isArray(parsed) ? parsed.filter((t): t is string => typeof t === 'string') : [];
  } catch {
    return [];
  }
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

/** `1_10` after `1_9`: by sub-topology, then partition, numerically. */
export function compareTaskIds(a: string, b: string): number {
  const [sa, pa] = a.split('_').map(Number) as [number, number];
  const [sb, pb] = b.split('_').map(Number) as [number, number];
  return sa - sb || pa - pb;
}
