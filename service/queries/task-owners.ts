/**
 * Which instance runs a task, as the consumer group says: each member's
 * assignment (decoded by the runtime's assignor) lists the changelog
 * partitions of its tasks, and its metadata carries the `host:port` where it
 * answers queries. Task `<sub>_<p>` holding store S runs on the member that
 * is assigned partition p of `<app>-S-changelog`.
 */
import type { Admin } from 'kafkajs';
import { TaskId, changelogTopicName, partitionForKey } from '../../topology/index.js';
import { decodeGroupMember } from '../../topology/kafka/index.js';

export interface TaskOwner {
  /** `host:port` of its query endpoint; undefined when the member advertises none. */
  readonly server: string | undefined;
  readonly memberId: string;
}

export interface GroupView {
  /** The group's state (`Stable`, `PreparingRebalance`, …). */
  readonly state: string;
  /** Owner of each task that has one. */
  readonly owners: ReadonlyMap<string, TaskOwner>;
}

/** The partition of a task id `<subtopology>_<partition>`. */
export function taskPartition(taskId: string): number {
  return TaskId.parse(taskId).partition;
}

/** The owners of `taskIds` (all of one store's sub-topology) right now. */
export async function describeTaskOwners(admin: Admin, applicationId: string, storeName: string, taskIds: readonly string[]): Promise<GroupView> {
  const { groups } = await admin.describeGroups([applicationId]);
  const group = groups[0];
  const changelog = changelogTopicName(applicationId, storeName);
  const byPartition = new Map<number, TaskOwner>();
  for (const member of group?.members ?? []) {
    const view = decodeGroupMember(member);
    for (const partition of view.assignment[changelog] ?? []) byPartition.set(partition, { server: view.server, memberId: view.memberId });
  }
  const owners = new Map<string, TaskOwner>();
  for (const taskId of taskIds) {
    const owner = byPartition.get(taskPartition(taskId));
    if (owner !== undefined) owners.set(taskId, owner);
  }
  return { state: group?.state ?? 'Dead', owners };
}

/**
 * The task holding `key` among a store's tasks (`<sub>_0` … `<sub>_<n-1>`):
 * Kafka's default partitioner over the key's UTF-8 bytes, as the
 * repartition (or a producer keying by subject) placed it.
 */
export function taskForKey(storeTaskIds: readonly string[], key: string): string {
  const { subtopology } = TaskId.parse(storeTaskIds[0] as string);
  return new TaskId(subtopology, partitionForKey(Buffer.from(key, 'utf8'), storeTaskIds.length)).key;
}
