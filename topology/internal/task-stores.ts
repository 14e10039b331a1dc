/**
 * Builds one task's stores from their specs: persistence, caching and the
 * changelog hook (each logged write becomes a record on the store's changelog
 * topic, on the task's partition). Shared by the test driver and the Kafka runner.
 */
import { createKeyValueStore, createWindowStore, type CacheBudget, type StoreSpec } from '../../state/index.js';
import type { OutputRecord, TaskStore } from './stream-task.js';

export interface TaskStoreOptions {
  /** `<app.stateDir>/<applicationId>`; stores live under `<stateDir>/<taskId>/<store>`. */
  readonly stateDir: string;
  readonly taskId: string;
  readonly partition: number;
  /** Build every store in memory regardless of its spec. */
  readonly inMemory: boolean;
  readonly changelogTopic: (storeName: string) => string;
  readonly send: (record: OutputRecord) => void;
  readonly currentTimestampMs: () => number;
  /** Shared by every cached store of the instance (see CacheBudget). */
  readonly cacheBudget: CacheBudget;
}

export function createTaskStores(specs: readonly StoreSpec[], options: TaskStoreOptions): Map<string, TaskStore> {
  const stores = new Map<string, TaskStore>();
  for (const declared of specs) {
    const spec = options.inMemory ? { ...declared, persistent: false } : declared;
    const topic = options.changelogTopic(spec.name);
    // Changelog records carry the time they were written, not the write's own (event) time: the
    // broker's time retention on window changelogs must count from then, or a backfill of old
    // usage would be deleted from the changelog while the store still holds it.
    const changelog = spec.logging
      ? {
          append: (key: Buffer, value: Buffer | null) =>
            options.send({ topic, key, value, timestampMs: options.currentTimestampMs(), headers: {}, partition: options.partition }),
        }
      : undefined;
    const context = { stateDir: options.stateDir, taskId: options.taskId, changelog, currentTimestampMs: options.currentTimestampMs, cacheBudget: options.cacheBudget };
    const store = spec.kind === 'window' ? createWindowStore(spec, context) : createKeyValueStore(spec, context);
    stores.set(spec.name, store as unknown as TaskStore);
  }
  return stores;
}
