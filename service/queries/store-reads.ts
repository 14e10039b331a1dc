/**
 * Interactive reads of a store whose tasks are spread over the instances of
 * the group. Tasks that run here (restored) are read locally, next to
 * their processing (KafkaApp.readLocalStores); the others are fetched from
 * their owners' internal API. If any needed task is restoring, has no owner,
 * or its owner cannot be reached, the answer is 503 naming those partitions
 * and where they live — never a partial answer.
 */
import type { Admin } from 'kafkajs';
import type { KafkaApp, LocalStore } from '../../topology/kafka/index.js';
import { HttpError } from '../api-errors.js';
import { describeTaskOwners, taskPartition, type GroupView } from './task-owners.js';

/** What a read needs to know about this instance. */
export interface StoreReadContext {
  readonly app: KafkaApp;
  readonly applicationId: string;
  /** This instance's advertised `host:port`. */
  readonly selfServer: string;
  readonly admin: Admin;
  /** Bearer token sent to the other instances; undefined when the API is open. */
  readonly peerToken: string | undefined;
}

export interface CrossInstanceRead<S, R, T> {
  readonly storeName: string;
  /** Every task whose data the answer needs. */
  readonly taskIds: readonly string[];
  /** Fetches `taskIds`' data from the instance at `server` (throws with a message on failure). */
  fetchRemote(server: string, taskIds: readonly string[]): Promise<R>;
  /** The answer from the local stores of the needed local tasks and every remote result. */
  compute(local: readonly S[], remote: readonly R[]): Promise<T>;
}

export interface UnavailablePartition {
  readonly task: string;
  readonly partition: number;
  /** `host:port` of the instance that holds it, when known. */
  readonly owner: string | null;
  readonly reason: string;
}

export function partitionsUnavailable(storeName: string, partitions: readonly UnavailablePartition[]): HttpError {
  const list = partitions.map((p) => `${p.partition} (${p.reason})`).join(', ');
  return new HttpError(
    503,
    'partitions-unavailable',
    `store ${storeName}: partition${partitions.length === 1 ? '' : 's'} ${list} cannot be read now, and a partial answer would be wrong; retry in a moment`,
    { partitions },
    { 'Retry-After': '1' },
  );
}

export async function readAcrossInstances<S, R, T>(context: StoreReadContext, read: CrossInstanceRead<S, R, T>): Promise<T> {
  const snapshot = context.app.snapshot();
  const holding = snapshot.tasks.filter((t) => t.stores.some((s) => s.name === read.storeName));
  const readyHere = new Set(holding.filter((t) => !t.restoring).map((t) => t.id));
  const restoringHere = new Set(holding.filter((t) => t.restoring).map((t) => t.id));
  const local = read.taskIds.filter((id) => readyHere.has(id));
  const missing = read.taskIds.filter((id) => !readyHere.has(id));
  const unavailable: UnavailablePartition[] = [];
  const remote: R[] = [];
  if (missing.length > 0) {
    const byServer = await planRemoteReads(context, read.storeName, missing, restoringHere, unavailable);
    if (unavailable.length === 0) {
      const servers = [...byServer];
      const results = await Promise.allSettled(servers.map(([server, ids]) => read.fetchRemote(server, ids)));
      results.forEach((result, index) => {
        const [server, ids] = servers[index] as [string, string[]];
        if (result.status === 'fulfilled') remote.push(result.value);
        else for (const id of ids) unavailable.push(entry(id, server, (result.reason as Error).message));
      });
    }
  }
  if (unavailable.length > 0) throw partitionsUnavailable(read.storeName, unavailable);
  return context.app.readLocalStores<S, T>(read.storeName, async (stores: readonly LocalStore<S>[]) => {
    const found = stores.filter((s) => local.includes(s.taskId));
    const moved = local.filter((id) => !found.some((s) => s.taskId === id));
    if (moved.length > 0) throw partitionsUnavailable(read.storeName, moved.map((id) => entry(id, null, 'it moved off this instance during the query')));
    return read.compute(
      found.map((s) => s.store),
      remote,
    );
  });
}

function entry(task: string, owner: string | null, reason: string): UnavailablePartition {
  return { task, partition: taskPartition(task), owner, reason };
}

/** Groups the missing tasks by owner; those that cannot be fetched go to `unavailable`. */
async function planRemoteReads(
  context: StoreReadContext,
  storeName: string,
  missing: readonly string[],
  restoringHere: ReadonlySet<string>,
  unavailable: UnavailablePartition[],
): Promise<Map<string, string[]>> {
  const byServer = new Map<string, string[]>();
  const toLocate = missing.filter((id) => !restoringHere.has(id));
  for (const id of missing) if (restoringHere.has(id)) unavailable.push(entry(id, context.selfServer, `restoring on ${context.selfServer}`));
  if (toLocate.length === 0) return byServer;
  let view: GroupView;
  try {
    view = await describeTaskOwners(context.admin, context.applicationId, storeName, toLocate);
  } catch (error) {
    for (const id of toLocate) unavailable.push(entry(id, null, `its owner cannot be looked up (${(error as Error).message})`));
    return byServer;
  }
  for (const id of toLocate) {
    const owner = view.owners.get(id);
    if (owner === undefined) unavailable.push(entry(id, null, `no instance owns it yet (the group is ${view.state})`));
    else if (owner.server === undefined) unavailable.push(entry(id, null, `its owner ${owner.memberId} advertises no query endpoint`));
    else if (owner.server === context.selfServer) unavailable.push(entry(id, owner.server, `assigned to ${owner.server} (this instance), not running yet`));
    else byServer.set(owner.server, [...(byServer.get(owner.server) ?? []), id]);
  }
  return byServer;
}

/** The owner's side of a routed read: every asked task must run (restored) here, else 409 so the asker looks again. */
export function assertAllLocal(asked: readonly string[], local: readonly string[]): void {
  const notHere = asked.filter((id) => !local.includes(id));
  if (notHere.length > 0) {
    throw new HttpError(409, 'tasks-not-local', `task${notHere.length === 1 ? '' : 's'} ${notHere.join(', ')} ${notHere.length === 1 ? 'is' : 'are'} not running (restored) on this instance: the group has moved ${notHere.length === 1 ? 'it' : 'them'}; ask the new owner`);
  }
}

/** 503 for reads before the pipeline has joined its group (no task is known yet). */
export function notStarted(): HttpError {
  return new HttpError(503, 'not-ready', 'the pipeline has not joined its consumer group yet, so no store can be read; retry when GET /readyz answers 200', {}, { 'Retry-After': '1' });
}
