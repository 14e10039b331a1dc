/**
 * Gauges read from the app's snapshot when Prometheus scrapes: consumer lag
 * per source partition, restoration still to do, tasks by state, readiness,
 * the app's state and the size of every local state store on disk. Series of
 * tasks that moved away disappear with them.
 */
import { Gauge, type Registry } from 'prom-client';
import { appStates, type AppSnapshot } from '../../topology/kafka/index.js';
import { directorySizeBytes } from './directory-size.js';

export function registerSnapshotMetrics(registry: Registry, snapshot: () => AppSnapshot | undefined): void {
  const registers = [registry];
  const lag = new Gauge({
    name: 'tally_consumer_lag_records',
    help: 'Records of a source partition not processed yet (end offset minus position), per local task.',
    labelNames: ['topic', 'partition'],
    registers,
    collect: () => {
      lag.reset();
      for (const task of snapshot()?.tasks ?? []) {
        for (const source of task.sources) if (source.lag !== undefined) lag.set({ topic: source.topic, partition: String(source.partition) }, source.lag);
      }
    },
  });
  const restoreRemaining = new Gauge({
    name: 'tally_restore_remaining_records',
    help: 'Changelog records a local task still has to read before it processes (an estimate: compaction leaves gaps).',
    labelNames: ['task'],
    registers,
    collect: () => {
      restoreRemaining.reset();
      for (const task of snapshot()?.tasks ?? []) restoreRemaining.set({ task: task.id }, task.restoreRemaining);
    },
  });
  const tasks = new Gauge({
    name: 'tally_tasks',
    help: 'Local tasks by state: restoring their stores, or running.',
    labelNames: ['state'],
    registers,
    collect: () => {
      const all = snapshot()?.tasks ?? [];
      const restoring = all.filter((task) => task.restoring).length;
      tasks.set({ state: 'restoring' }, restoring);
      tasks.set({ state: 'running' }, all.length - restoring);
    },
  });
  const ready = new Gauge({
    name: 'tally_ready',
    help: '1 when every assigned task is restored and processing (what /readyz answers), else 0.',
    registers,
    collect: () => {
      ready.set(snapshot()?.ready === true ? 1 : 0);
    },
  });
  const appState = new Gauge({
    name: 'tally_app_state',
    help: "1 for the runtime's current state, 0 for the others.",
    labelNames: ['state'],
    registers,
    collect: () => {
      const current = snapshot()?.state;
      for (const state of appStates) appState.set({ state }, state === current ? 1 : 0);
    },
  });
  registerStoreSizes(registry, snapshot);
}

function registerStoreSizes(registry: Registry, snapshot: () => AppSnapshot | undefined): void {
  // Overlapping scrapes share one walk of the state directory. A store that cannot
  // be read (permissions) has no series rather than failing the whole scrape.
  let walking: Promise<{ task: string; store: string; bytes: number | undefined }[]> | undefined;
  const walk = async () => {
    const stores = (snapshot()?.tasks ?? []).flatMap((task) => task.stores.map((store) => ({ task: task.id, store: store.name, dir: store.dir })));
    return Promise.all(stores.map(async ({ task, store, dir }) => ({ task, store, bytes: await directorySizeBytes(dir).catch(() => undefined) })));
  };
  const storeBytes = new Gauge({
    name: 'tally_state_store_bytes',
    help: "Size on disk of a local task's state store directory (LevelDB files), measured at scrape time.",
    labelNames: ['task', 'store'],
    registers: [registry],
    collect: async () => {
      walking ??= walk().finally(() => (walking = undefined));
      const sizes = await walking;
      storeBytes.reset();
      for (const { task, store, bytes } of sizes) if (bytes !== undefined) storeBytes.set({ task, store }, bytes);
    },
  });
}
