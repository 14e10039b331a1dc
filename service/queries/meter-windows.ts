/**
 * Meter queries across instances: the internal read of a meter's base
 * windows on the instance that owns them, the read-only store that holds
 * what came back, and the answer to `GET /v1/meters/{slug}/query` — the same
 * `runMeterQuery` that `tally replay --query` uses, over local and remote
 * windows together.
 */
import { aggregationFor, meterStoreName, parseMeterStoreKey, type MeterWindowValue } from '../../processors/index.js';
import { runMeterQuery, type MeterQuery, type MeterQueryResult } from '../../processors/query/index.js';
import type { TallyConfig } from '../../schemas/index.js';
import type { ReadOnlyWindowStore, WindowEntry } from '../../state/index.js';
import type { KafkaApp } from '../../topology/kafka/index.js';
import { HttpError } from '../api-errors.js';
import { getFromPeer } from './peer-client.js';
import { assertAllLocal, notStarted, readAcrossInstances, type StoreReadContext } from './store-reads.js';
import { taskForKey } from './task-owners.js';

/** One base window as the internal API sends it. */
export interface WindowEntryJson {
  readonly key: string;
  readonly windowStartMs: number;
  readonly value: MeterWindowValue;
}

export interface LocalWindowsRequest {
  readonly storeName: string;
  readonly taskIds: readonly string[];
  /** Window starts in [fromStartMs, toStartMs], both inclusive. */
  readonly fromStartMs: number;
  readonly toStartMs: number;
  /** Only these subjects; empty: all. */
  readonly subjects: readonly string[];
}

export const internalWindowsPath = (slug: string): string => `/internal/v1/meters/${encodeURIComponent(slug)}/windows`;

/** The owner's side: the windows of `taskIds`, which must all run here (409 otherwise). */
export async function readLocalWindows(app: KafkaApp, request: LocalWindowsRequest): Promise<WindowEntryJson[]> {
  return app.readLocalStores<ReadOnlyWindowStore<MeterWindowValue>, WindowEntryJson[]>(request.storeName, async (stores) => {
    const wanted = stores.filter((s) => request.taskIds.includes(s.taskId));
    assertAllLocal(request.taskIds, wanted.map((s) => s.taskId));
    const subjects = new Set(request.subjects);
    const entries: WindowEntryJson[] = [];
    for (const { store } of wanted) {
      for await (const entry of store.fetchAll(request.fromStartMs, request.toStartMs)) {
        if (subjects.size > 0 && !subjects.has(parseMeterStoreKey(entry.key).subject)) continue;
        entries.push({ key: entry.key, windowStartMs: entry.windowStartMs, value: entry.value });
      }
    }
    return entries;
  });
}

/** A read-only window store over windows fetched from another instance. */
export function remoteWindowStore(name: string, entries: readonly WindowEntryJson[]): ReadOnlyWindowStore<MeterWindowValue> {
  const sorted = [...entries].sort((a, b) => a.windowStartMs - b.windowStartMs || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  async function* iterate(keep: (e: WindowEntryJson) => boolean): AsyncIterable<WindowEntry<MeterWindowValue>> {
    for (const e of sorted) if (keep(e)) yield { key: e.key, windowStartMs: e.windowStartMs, value: e.value };
  }
  return {
    name,
    retentionMs: Number.POSITIVE_INFINITY,
    fetch: (key, windowStartMs) => sorted.find((e) => e.key === key && e.windowStartMs === windowStartMs)?.value,
    fetchRange: (key, from, to) => iterate((e) => e.key === key && e.windowStartMs >= from && e.windowStartMs <= to),
    fetchAll: (from, to) => iterate((e) => e.windowStartMs >= from && e.windowStartMs <= to),
    all: () => iterate(() => true),
  };
}

/** Answers a parsed meter query from every task holding the meter (only the subjects' tasks when subjects are given). */
export async function answerMeterQuery(context: StoreReadContext, config: TallyConfig, query: MeterQuery): Promise<MeterQueryResult> {
  const meter = config.meters.find((m) => m.slug === query.meter);
  if (meter === undefined) throw new HttpError(404, 'query-meter-unknown', `no meter ${JSON.stringify(query.meter)} is configured`);
  const storeName = meterStoreName(meter.slug);
  const allTasks = context.app.storeTaskIds(storeName);
  if (allTasks.length === 0) throw notStarted();
  const taskIds = query.subjects.length === 0 ? allTasks : [...new Set(query.subjects.map((subject) => taskForKey(allTasks, subject)))];
  const toStartMs = query.toMs - query.baseWindowSizeMs;
  return readAcrossInstances<ReadOnlyWindowStore<MeterWindowValue>, ReadOnlyWindowStore<MeterWindowValue>, MeterQueryResult>(context, {
    storeName,
    taskIds,
    fetchRemote: async (server, ids) => {
      const pairs: [string, string][] = [...ids.map((id): [string, string] => ['task', id]), ['from', String(query.fromMs)], ['to', String(toStartMs)], ...query.subjects.map((s): [string, string] => ['subject', s])];
      const params = new URLSearchParams(pairs);
      const body = await getFromPeer<{ entries: WindowEntryJson[] }>({ server, path: internalWindowsPath(meter.slug), params, token: context.peerToken });
      return remoteWindowStore(storeName, body.entries);
    },
    compute: (local, remote) => runMeterQuery(query, [...local, ...remote], aggregationFor(meter.aggregation)),
  });
}
