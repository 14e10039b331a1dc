/**
 * A read replica of the entitlement stores of the tasks that run on this
 * instance, kept by the HTTP front (another thread) from the pipeline's
 * committed-store feed, so "may this customer go on?" is answered without
 * waiting for the processing loop.
 *
 * It holds, per running task, the committed contents of `entitlement-usage`
 * and `entitlement-terms`: what the task held as it started, then each
 * commit's writes. It answers a customer only when the customer's task is
 * one of them — the customer is partitioned to this instance and its task
 * runs here — and leaves every other case to the pipeline (undefined): a
 * customer held elsewhere (forwarded to its owner), a task still restoring.
 *
 * Answers are read-committed: usage of records processed since the task's
 * last commit (at most one commit interval) is not in them yet, and never
 * usage a transaction that aborts would take back.
 *
 * Memory: of each usage state it keeps what an answer reads (the record, zone
 * and anchor; `replicaWrites` trims them before they cross threads), and of
 * each customer's entitlement the two latest billing periods only — the
 * current one and, while a late event can still land there, the one before.
 * So it holds about two small records per customer and entitlement, however
 * many months the store holds.
 */
import { compareCodePoints, entitlementStoreNames, entitlementTermsKey, entitlementUsageView, type EntitlementsOfCustomer, type EntitlementState, type EntitlementTerms, type EntitlementUsageView } from '../../processors/index.js';
import { TaskId, partitionForKey } from '../../topology/index.js';
import type { FedWrite } from '../../topology/kafka/index.js';
import { currentEntitlementKeys, entitlementsAnswer, type CustomerEntitlements } from './entitlement-answers.js';

/** Periods kept per customer and entitlement (see the memory note above). */
const periodsKept = 2;

/** The writes as the replica keeps them: usage states trimmed to what an answer reads. Run before they are sent to it. */
export function replicaWrites(writes: readonly FedWrite[]): FedWrite[] {
  return writes.map((write) =>
    write.store === entitlementStoreNames.usage && write.value !== undefined ? { ...write, value: entitlementUsageView(write.value as EntitlementState) } : write,
  );
}

/** What the pipeline tells the replica, in order (see CommittedStoreFeed). */
export type ReplicaChange =
  | { readonly kind: 'started'; readonly taskId: string; readonly taskCount: number; readonly writes: readonly FedWrite[] }
  | { readonly kind: 'committed'; readonly taskId: string; readonly writes: readonly FedWrite[] }
  | { readonly kind: 'stopped'; readonly taskId: string };

/** One store's entries by key, with the keys of each customer. */
class ByCustomer<V> {
  readonly #byKey = new Map<string, V>();
  readonly #keysOf = new Map<string, Set<string>>();

  constructor(private readonly customerOf: (value: V) => string) {}

  get(key: string): V | undefined {
    return this.#byKey.get(key);
  }

  /** The customer's values in key order, as a prefix scan of the store gives them. */
  ofCustomer(customerId: string): V[] {
    return this.entriesOf(customerId).map(([, value]) => value);
  }

  /** The customer's keys and values in key order. */
  entriesOf(customerId: string): [string, V][] {
    return [...(this.#keysOf.get(customerId) ?? [])].sort(compareCodePoints).map((key) => [key, this.#byKey.get(key) as V]);
  }

  write(key: string, value: V | undefined): void {
    const old = this.#byKey.get(key);
    if (old !== undefined) {
      const keys = this.#keysOf.get(this.customerOf(old));
      keys?.delete(key);
      if (keys?.size === 0) this.#keysOf.delete(this.customerOf(old));
    }
    if (value === undefined) {
      this.#byKey.delete(key);
      return;
    }
    this.#byKey.set(key, value);
    const customerId = this.customerOf(value);
    let keys = this.#keysOf.get(customerId);
    if (keys === undefined) this.#keysOf.set(customerId, (keys = new Set()));
    keys.add(key);
  }
}

interface ReplicaTask {
  readonly usage: ByCustomer<EntitlementUsageView>;
  readonly terms: ByCustomer<EntitlementTerms>;
}

export class EntitlementReplica {
  readonly #tasks = new Map<string, ReplicaTask>();
  /** The entitlement sub-topology and its task count, from the first task started. */
  #layout: { readonly subtopology: number; readonly taskCount: number } | undefined;

  /** `configured`: the customer's entry in the config, if any (used when the customers topic has no row for it). */
  constructor(private readonly configured: (customerId: string) => EntitlementsOfCustomer | undefined) {}

  /** Task ids it holds now (tests, diagnostics). */
  get taskIds(): string[] {
    return [...this.#tasks.keys()];
  }

  apply(change: ReplicaChange): void {
    if (change.kind === 'stopped') {
      this.#tasks.delete(change.taskId);
      return;
    }
    if (change.kind === 'started') {
      this.#layout = { subtopology: TaskId.parse(change.taskId).subtopology, taskCount: change.taskCount };
      this.#tasks.set(change.taskId, { usage: new ByCustomer((s) => s.record.customerId), terms: new ByCustomer((t) => t.customerId) });
    }
    const task = this.#tasks.get(change.taskId);
    // A commit told after its task stopped (or before it started) is not this replica's to hold.
    if (task === undefined) return;
    for (const write of change.writes) {
      if (write.store === entitlementStoreNames.usage) {
        const value = write.value as EntitlementUsageView | undefined;
        task.usage.write(write.key, value);
        if (value !== undefined) dropOlderPeriods(task.usage, value.record);
      } else if (write.store === entitlementStoreNames.terms) task.terms.write(write.key, write.value as EntitlementTerms | undefined);
    }
  }

  /**
   * The customer's entitlements in the period that holds `nowMs`, as the
   * pipeline would answer from its committed state; undefined when the
   * customer's task does not run here. Throws the pipeline's 404 for a
   * customer nobody knows.
   */
  answer(customerId: string, nowMs: number): CustomerEntitlements | undefined {
    const task = this.#taskOf(customerId);
    if (task === undefined) return undefined;
    const row = task.terms.get(entitlementTermsKey(customerId));
    const declared = row !== undefined && row.customerId === customerId ? row : this.configured(customerId);
    const keys = currentEntitlementKeys(customerId, declared, nowMs);
    const states =
      keys === undefined
        ? task.usage.ofCustomer(customerId)
        : keys.map((key) => task.usage.get(key)).filter((state): state is EntitlementUsageView => state !== undefined && state.record.customerId === customerId);
    return entitlementsAnswer(customerId, states, declared, nowMs);
  }

  /**
   * The internal reads another instance makes of the customer's task(s) here
   * (internal-customer-route.ts): the customer's usage states, or its terms
   * row, in `taskIds`; undefined unless every one of them is held here.
   */
  statesIn(taskIds: readonly string[], customerId: string): EntitlementUsageView[] | undefined {
    const tasks = this.#held(taskIds);
    return tasks?.flatMap((task) => task.usage.ofCustomer(customerId));
  }

  termsIn(taskIds: readonly string[], customerId: string): EntitlementTerms[] | undefined {
    const tasks = this.#held(taskIds);
    return tasks?.flatMap((task) => task.terms.ofCustomer(customerId));
  }

  #held(taskIds: readonly string[]): ReplicaTask[] | undefined {
    const tasks = taskIds.map((id) => this.#tasks.get(id));
    return tasks.length > 0 && tasks.every((task) => task !== undefined) ? (tasks as ReplicaTask[]) : undefined;
  }

  #taskOf(customerId: string): ReplicaTask | undefined {
    const layout = this.#layout;
    if (layout === undefined) return undefined;
    return this.#tasks.get(new TaskId(layout.subtopology, partitionForKey(Buffer.from(customerId, 'utf8'), layout.taskCount)).key);
  }
}

/** Keeps the {@link periodsKept} latest periods of the customer's entitlement that `record` is of. */
function dropOlderPeriods(usage: ByCustomer<EntitlementUsageView>, record: EntitlementUsageView['record']): void {
  const periods = usage
    .entriesOf(record.customerId)
    .filter(([, state]) => state.record.entitlement === record.entitlement)
    .sort(([, a], [, b]) => Date.parse(b.record.periodStart) - Date.parse(a.record.periodStart));
  for (const [key] of periods.slice(periodsKept)) usage.write(key, undefined);
}
