/**
 * What a running app tells the outside world, without depending on any
 * metrics library: events pushed to an {@link AppObserver} as they happen,
 * and an {@link AppSnapshot} pulled on demand (consumer lag, restoration
 * still to do, where each store lives). The service turns both into
 * Prometheus metrics; tests can read them directly.
 */

/** Callbacks, all optional and all synchronous; they must not throw or block. */
export interface AppObserver {
  /** A task processed `count` records of one source partition in `elapsedMs` (one fetched batch). */
  recordsProcessed?(taskId: string, topic: string, partition: number, count: number, elapsedMs: number): void;
  /** A commit made `count` records on `topic` durable (outputs, repartition topics and changelogs). */
  recordsProduced?(topic: string, count: number): void;
  /** One round of commits over `tasks` tasks took `elapsedMs`. */
  committed?(tasks: number, elapsedMs: number): void;
  /** A transaction was aborted, or a task's uncommitted work thrown away (fenced, failed commit, dirty close). */
  transactionAborted?(taskId: string, reason: string): void;
  /** The group handed this instance a new assignment. */
  rebalanced?(taskIds: readonly string[]): void;
  /** A store finished restoring `records` changelog records. */
  storeRestored?(taskId: string, storeName: string, records: number): void;
  /**
   * A record failed processing and went to its source's dead-letter topic
   * (reason `processing-failed`) instead of stopping the task; `message` says
   * which record, in which node, and why (it is also logged at warn).
   */
  processingFailed?(taskId: string, message: string): void;
}

export interface SourceSnapshot {
  readonly topic: string;
  readonly partition: number;
  /** Next offset the task will read. */
  readonly position: number;
  /** Latest known end offset (high watermark), when one was seen. */
  readonly endOffset: number | undefined;
  /** endOffset − position, or undefined before the first fetch. */
  readonly lag: number | undefined;
}

export interface StoreSnapshot {
  readonly name: string;
  /** The store's directory (a window store: its segment databases), under the state dir. */
  readonly dir: string;
}

export interface TaskSnapshot {
  readonly id: string;
  readonly partition: number;
  readonly restoring: boolean;
  /** Changelog records still to read before the task can process (an estimate: compaction leaves gaps). */
  readonly restoreRemaining: number;
  readonly sources: readonly SourceSnapshot[];
  readonly stores: readonly StoreSnapshot[];
}

export interface AppSnapshot {
  readonly state: string;
  readonly ready: boolean;
  readonly tasks: readonly TaskSnapshot[];
}

/** A state store of one local task, handed to a store reader. */
export interface LocalStore<S> {
  readonly taskId: string;
  readonly partition: number;
  readonly store: S;
}
