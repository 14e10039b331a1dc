/**
 * The committed contents of chosen key-value stores, told as they change, so
 * a read replica kept elsewhere (another thread) can answer from them without
 * waiting on the processing loop — Kafka Streams' standby replicas in spirit,
 * but fed in process instead of from the changelog topic.
 *
 * Per task that holds one of the stores and runs here, the feed is told, in
 * this order: `taskStarted` with everything the stores hold when the task
 * starts running (restored: committed), then one `committed` per commit that
 * changed them, with the writes that commit made durable (per store, in write
 * order, the last write of a key wins), then `taskStopped` when the task
 * stops running here — as it is suspended, before its last commit, so a
 * replica never answers for a task another instance may already run. Writes
 * of a commit that fails are never told: the task is closed dirty (stopped)
 * and starts again from what its changelogs hold.
 *
 * The store must be logged: its writes are taken from its changelog records.
 */
import { decodeKey } from '../../state/index.js';
import type { Serde } from '../../schemas/index.js';

/** One write of a commit: `value` undefined deletes the key. */
export interface FedWrite {
  readonly store: string;
  readonly key: string;
  readonly value: unknown;
}

export interface CommittedStoreFeed {
  /** Names of the key-value stores (logged) whose committed contents are told. */
  readonly storeNames: readonly string[];
  /** A task holding some of the stores runs here from now on; `contents` is all they hold (per store, key order). */
  taskStarted(taskId: string, contents: readonly FedWrite[]): void;
  /** A commit of the task made `writes` durable. */
  committed(taskId: string, writes: readonly FedWrite[]): void;
  /** The task no longer runs here (revoked, closing, or thrown away to be rebuilt). */
  taskStopped(taskId: string): void;
}

/**
 * The fed stores' writes of one task, taken from its changelog records as it
 * collects them, and split at each commit's start: what was collected before
 * belongs to that commit, what comes after to the next.
 */
export class TaskFeedWrites {
  /** Physical changelog topic → the fed store it logs, with its value serde. */
  readonly #topics: ReadonlyMap<string, { readonly store: string; readonly serde: Serde<unknown> }>;
  /** True when the task holds a fed store. */
  readonly feeds: boolean;
  /** True from the feed's `taskStarted` of the task to its `taskStopped` (the task manager tells both). */
  told = false;
  #pending: FedWrite[] = [];
  #committing: FedWrite[] = [];

  constructor(topics: ReadonlyMap<string, { readonly store: string; readonly serde: Serde<unknown> }>) {
    this.#topics = topics;
    this.feeds = topics.size > 0;
  }

  /** Notes a record the task sends, if it is a fed store's changelog record. */
  note(topic: string, key: Buffer | null, value: Buffer | null): void {
    const fed = this.#topics.get(topic);
    if (fed === undefined || key === null) return;
    this.#pending.push({ store: fed.store, key: decodeKey(key), value: value === null ? undefined : fed.serde.deserialize(value) });
  }

  /** A commit starts: what was noted so far is its writes. */
  beginCommit(): void {
    this.#committing = this.#pending;
    this.#pending = [];
  }

  /** The commit that began last succeeded: its writes. */
  takeCommitted(): FedWrite[] {
    const writes = this.#committing;
    this.#committing = [];
    return writes;
  }

  /** The task's uncommitted work is thrown away. */
  discard(): void {
    this.#pending = [];
    this.#committing = [];
  }
}
