/**
 * Restoration time of a store with `--entries` entries (default 1 000 000):
 * the metering app's changelog for that store is filled with what the store
 * itself logs when that many entries are written to it (built with the
 * state layer, so it is exactly the app's format), then the app starts on an
 * empty state directory and rebuilds the store from the changelog. Then it
 * is closed cleanly and started again on the same directory: the checkpoint
 * makes the second start skip the restoration.
 *
 *   npm run bench:restore -- --entries 1000000 --stores meter-tokens,dedupe
 *
 * Times are from the first "restoring store" log line to the store's
 * restored event, and from app.start() to app.ready.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildMeteringTopology, dedupeKey, meterStoreKey } from '../processors/index.js';
import { parseConfig } from '../schemas/index.js';
import { createWindowStore, type BytesWrite, type StoreSpec } from '../state/index.js';
import { TaskId } from '../topology/index.js';
import { createApp, type KafkaApp } from '../topology/kafka/index.js';
import { commandLine, connectBroker, createTopics, fmt, machineLine, printTable, type BenchBroker } from './bench-kit.js';
import { benchConfig } from './metering-events.js';

const { values: args } = parseArgs({
  options: {
    entries: { type: 'string', default: '1000000' },
    stores: { type: 'string', default: 'meter-tokens,dedupe' },
  },
});
const entries = Number(args.entries);
const run = Date.now().toString(36);

/** Writes `entries` windows into a scratch store of `spec` and sends what it logs to `topic`, partition 0. */
async function fillChangelog(broker: BenchBroker, spec: StoreSpec, topic: string): Promise<number> {
  const scratch = await mkdtemp(join(tmpdir(), 'tally-restore-fill-'));
  const logged: BytesWrite[] = [];
  const store = createWindowStore(spec as StoreSpec<unknown>, { stateDir: scratch, taskId: new TaskId(0, 0).key, changelog: { append: (key, value) => void logged.push({ key, value }) }, currentTimestampMs: Date.now });
  await store.open();
  const producer = broker.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const nowMs = Date.now();
  let records = 0;
  const send = async () => {
    // Requests of at most ~512 KB (the broker refuses larger ones) and 500 records (kafkajs groups
    // records by partition in quadratic time).
    for (let from = 0; from < logged.length; ) {
      let to = from;
      for (let bytes = 0; to < logged.length && to - from < 500 && (bytes < 512 * 1024 || to === from); to++) bytes += (logged[to] as BytesWrite).key.length + ((logged[to] as BytesWrite).value?.length ?? 0);
      await producer.send({ topic, acks: -1, messages: logged.slice(from, to).map(({ key, value }) => ({ key, value, partition: 0, timestamp: String(nowMs) })) });
      from = to;
    }
    records += logged.length;
    logged.length = 0;
  };
  const isDedupe = spec.name === 'dedupe';
  const windowStartMs = nowMs - (nowMs % (spec.segmentIntervalMs ?? 60_000));
  for (let i = 0; i < entries; i++) {
    if (isDedupe) await store.put(dedupeKey('bench', `event-${i}`), windowStartMs, nowMs);
    else await store.put(meterStoreKey(`customer-${i}`, {}), nowMs - (nowMs % 60_000), { acc: String(i % 4000), count: 1 });
    if (i % 50_000 === 49_999) {
      await store.flush();
      await send();
    }
  }
  await store.flush();
  await send();
  await producer.disconnect();
  await store.close();
  await rm(scratch, { recursive: true, force: true });
  return records;
}

interface StartTimes {
  readonly restoreMs: number | undefined;
  readonly readyMs: number;
  readonly restoredRecords: number;
}

async function timeStart(broker: BenchBroker, appId: string, configText: string, stateDir: string, storeName: string): Promise<StartTimes> {
  const config = parseConfig(configText, 'bench tally.yaml');
  let restoringAt: number | undefined;
  let restoredAt: number | undefined;
  let restoredRecords = 0;
  const logger = {
    info: (m: string) => {
      if (restoringAt === undefined && m.includes(`restoring store ${storeName} `)) restoringAt = performance.now();
    },
    warn: (m: string) => console.warn(`warn ${m}`),
    error: (m: string) => console.error(`error ${m}`),
  };
  const observer = {
    storeRestored: (_task: string, store: string, records: number) => {
      if (store !== storeName) return;
      restoredAt = performance.now();
      restoredRecords = records;
    },
  };
  const app: KafkaApp = createApp(buildMeteringTopology(config), { applicationId: appId, brokers: broker.brokers, stateDir, processingGuarantee: 'exactly_once', logger, observer });
  const startedAt = performance.now();
  await app.start();
  while (!app.ready) await new Promise((r) => setTimeout(r, 10));
  const readyMs = performance.now() - startedAt;
  await app.close();
  return { restoreMs: restoringAt === undefined || restoredAt === undefined ? undefined : restoredAt - restoringAt, readyMs, restoredRecords };
}

console.log(`$ ${commandLine()}`);
console.log(`machine: ${machineLine()}`);
const broker = await connectBroker();
const rows: string[][] = [];
try {
  for (const storeName of args.stores.split(',')) {
    const appId = `bench-restore-${storeName}-${run}`;
    const events = `${appId}-usage`;
    await createTopics(broker.admin, { [events]: 1 });
    const stateDir = await mkdtemp(join(tmpdir(), 'tally-restore-'));
    const configText = JSON.stringify(benchConfig({ appId, stateDir, brokers: broker.brokers, guarantee: 'exactly_once', events, keyedBySubject: true, commitIntervalMs: 100 }));
    const config = parseConfig(configText, 'bench tally.yaml');
    await createTopics(broker.admin, { [config.topics.meters]: 1, [config.topics.customers]: 1 }, true);
    await createTopics(broker.admin, { [config.topics.late]: 1, [config.topics.deadLetter]: 1 });
    // A first start creates the internal topics.
    await timeStart(broker, appId, configText, stateDir, storeName);
    const spec = buildMeteringTopology(config).stores.get(storeName);
    if (spec === undefined) throw new Error(`the metering topology has no store ${storeName}`);
    const fillStarted = performance.now();
    const records = await fillChangelog(broker, spec, `${appId}-${storeName}-changelog`);
    console.log(`  ${storeName}: ${fmt(entries)} entries logged as ${fmt(records)} changelog records in ${((performance.now() - fillStarted) / 1000).toFixed(1)} s`);
    await rm(stateDir, { recursive: true, force: true });
    const wiped = await timeStart(broker, appId, configText, stateDir, storeName);
    const checkpointed = await timeStart(broker, appId, configText, stateDir, storeName);
    await rm(stateDir, { recursive: true, force: true });
    const seconds = (ms: number | undefined) => (ms === undefined ? 'none' : (ms / 1000).toFixed(1));
    rows.push([storeName, fmt(entries), fmt(records), seconds(wiped.restoreMs), wiped.restoreMs === undefined ? 'n/a' : fmt((entries * 1000) / wiped.restoreMs), seconds(wiped.readyMs), seconds(checkpointed.restoreMs), seconds(checkpointed.readyMs)]);
  }
  console.log(`\nmachine after: ${machineLine()}`);
  printTable(['store', 'entries', 'changelog records', 'restore s (wiped)', 'entries/s', 'start to ready s (wiped)', 'restore s (checkpoint)', 'start to ready s (checkpoint)'], rows);
} finally {
  await broker.stop();
}
