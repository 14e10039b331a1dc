/**
 * The meter aggregate: adds each deduplicated event to the tumbling base
 * window of every meter that reads its type, in one window store per meter
 * (key: subject + group-by, value: accumulator and event count).
 *
 * Output, on `metersChild`:
 * - an update (final: false) with the full aggregate for every window that
 *   changed, when the store's cache flushes on commit — so updates are
 *   coalesced per commit;
 * - one final record (final: true) when the window closes: when stream time
 *   reaches end + allowedLateness (a stream-time punctuator that fires on
 *   every advance), or the wall clock does for an idle partition (a
 *   wall-clock punctuator). The close bound lives in `meter-close-state`, so
 *   finals neither repeat nor vanish across restarts; an update for a window
 *   already finalized is never emitted after its final.
 *
 * An event for a closed window (by stream time, or finalized by either clock)
 * goes to `lateChild`, once per meter it would have counted for.
 *
 * With `deltas`, every flushed change of a window of a charged meter also
 * goes to `deltas.child` as a `MeterDelta` keyed by subject (usage for
 * rating), computed from the store's old and new value — also for a window
 * finalized between its last change and the flush, whose update is not
 * emitted but whose usage must still be billed.
 */
import { TallyError } from '../schemas/errors.js';
import type { CacheFlushListener, KeyValueStore, WindowStore } from '../state/index.js';
import { StreamRecord, type ProcessorContext, type ProcessorSupplier } from '../topology/index.js';
import type { LateEventRecord, MeterRecord } from '../schemas/records.js';
import type { MeterWindowValue } from './aggregations/aggregation.js';
import type { IngestedEvent } from './ingest/ingested-event.js';
import { meterRecordKey, meterStoreKey, parseMeterStoreKey } from './meter-keys.js';
import { loadCloseState, meterCloseStateStoreName, saveCloseState, type MeterCloseState } from './meter-close-state.js';
import { readGroupBy, readMeterValue, type MeterPlan, type MeterPlans } from './meter-plan.js';
import { lateEventRecord, meterRecord } from './meter-records.js';
import { closedStartBoundMs, isOpenByStreamTime, windowStartOf, type MeterWindowing } from './meter-windows.js';
import type { MeteringCounters } from './metering-counters.js';
import { usageChange, type MeterDelta } from './rating/index.js';

/** How often (ms) the wall-clock punctuator checks for windows an idle partition left open. */
export const meterWallClockCloseIntervalMs = 1_000;

export interface MeterAggregateOptions {
  readonly plans: MeterPlans;
  readonly windowing: MeterWindowing;
  readonly metersChild: string;
  readonly lateChild: string;
  readonly counters: MeteringCounters;
  /** Where usage for rating goes (`MeterDelta`, key = subject), for the meters in `meters`; absent: no rating. */
  readonly deltas?: { readonly child: string; readonly meters: ReadonlySet<string> };
}

type MeterStore = WindowStore<MeterWindowValue> & {
  setFlushListener?(listener: CacheFlushListener<MeterWindowValue> | undefined): void;
};

type Output = MeterRecord | LateEventRecord | MeterDelta;

export function meterAggregateProcessor(options: MeterAggregateOptions): ProcessorSupplier<string, IngestedEvent, string, Output> {
  const { plans, windowing, metersChild, lateChild, counters, deltas } = options;
  const { sizeMs, allowedLatenessMs } = windowing;
  return () => {
    let context: ProcessorContext<string, Output>;
    let stores: Map<MeterPlan, MeterStore>;
    let closeStore: KeyValueStore<MeterCloseState>;
    let closeState: MeterCloseState;

    /** Forwards to a sink child: synchronous up to the sink, so flush listeners may call it. */
    function emit(key: string, value: Output, timestampMs: number, child: string): Promise<void> {
      return context.forward(new StreamRecord({ key, value, timestampMs }), child);
    }

    function emitWindow(plan: MeterPlan, storeKey: string, windowStartMs: number, window: MeterWindowValue, final: boolean): Promise<void> {
      const { subject, groupBy } = parseMeterStoreKey(storeKey);
      const value = meterRecord(plan, subject, groupBy, windowStartMs, sizeMs, window, final);
      if (final) counters.meterFinals++;
      else counters.meterUpdates++;
      // Every record of a window carries the window's last instant: an event time, never ahead of the data.
      return emit(meterRecordKey(plan.slug, subject, groupBy, windowStartMs), value, windowStartMs + sizeMs - 1, metersChild);
    }

    /** Rating's share of a window change: usage added since the previous flush (see MeterDelta). */
    function emitDelta(plan: MeterPlan, storeKey: string, windowStartMs: number, newValue: MeterWindowValue, oldValue: MeterWindowValue | undefined): Promise<void> {
      const change = usageChange(plan.aggregationName, newValue, oldValue);
      if (change === undefined || deltas === undefined) return Promise.resolve();
      const { subject, groupBy } = parseMeterStoreKey(storeKey);
      const windowEndMs = windowStartMs + sizeMs;
      const delta: MeterDelta = { meter: plan.slug, aggregation: plan.aggregationName, subject, groupBy, windowStartMs, windowEndMs, change };
      return emit(subject, delta, windowEndMs - 1, deltas.child);
    }

    function isClosed(windowStartMs: number): boolean {
      return windowStartMs < closeState.closedBeforeStartMs || !isOpenByStreamTime(windowStartMs, context.streamTimeMs, windowing);
    }

    /** Emits the final record of every window that `timeMs` closes and moves the durable bound. */
    async function closeWindows(timeMs: number): Promise<void> {
      const boundMs = closedStartBoundMs(timeMs, windowing);
      const fromMs = closeState.closedBeforeStartMs;
      if (boundMs <= fromMs) return;
      for (const [plan, store] of stores) {
        for await (const entry of store.fetchAll(fromMs, boundMs - 1)) await emitWindow(plan, entry.key, entry.windowStartMs, entry.value, true);
      }
      closeState = { closedBeforeStartMs: boundMs, closedAtMs: timeMs };
      await saveCloseState(closeStore, closeState, timeMs);
    }

    function listenForUpdates(plan: MeterPlan, store: MeterStore): void {
      if (store.setFlushListener === undefined) {
        throw new TallyError('store-not-cached', `meter store ${plan.storeName} has no cache: meter updates are emitted when the cache flushes`);
      }
      const rated = deltas !== undefined && deltas.meters.has(plan.slug);
      // The store awaits the listener: the delta's children (join, repartition) read stores.
      store.setFlushListener(async (entry) => {
        const { windowStartMs, newValue, oldValue } = entry;
        if (newValue === undefined || windowStartMs === undefined) return;
        // A finalized window already went out with this value, marked final: never follow it with an update.
        if (windowStartMs >= closeState.closedBeforeStartMs) await emitWindow(plan, entry.key, windowStartMs, newValue, false);
        if (rated) await emitDelta(plan, entry.key, windowStartMs, newValue, oldValue);
      });
    }

    return {
      async init(ctx) {
        context = ctx;
        stores = new Map(plans.all.map((plan) => [plan, ctx.getWindowStore<MeterWindowValue>(plan.storeName) as MeterStore]));
        for (const [plan, store] of stores) listenForUpdates(plan, store);
        closeStore = ctx.getKeyValueStore<MeterCloseState>(meterCloseStateStoreName);
        closeState = await loadCloseState(closeStore);
        // Interval 1 ms: runs after every record that advances stream time.
        ctx.schedule(1, 'stream-time', closeWindows);
        ctx.schedule(meterWallClockCloseIntervalMs, 'wall-clock', closeWindows);
      },

      async process(record) {
        const { event, offset } = record.value;
        const meters = plans.byEventType.get(event.type);
        if (meters === undefined) return;
        const windowStartMs = windowStartOf(event.timeMs, sizeMs);
        if (isClosed(windowStartMs)) {
          const closedAtMs = Math.max(context.streamTimeMs, closeState.closedAtMs);
          for (const plan of meters) {
            counters.lateEvents++;
            const late = lateEventRecord(plan, event, windowStartMs, sizeMs, allowedLatenessMs, closedAtMs);
            await emit(meterRecordKey(plan.slug, event.subject, readGroupBy(plan, event.data), windowStartMs), late, record.timestampMs, lateChild);
          }
          return;
        }
        for (const plan of meters) {
          const read = readMeterValue(plan, event.data);
          // The ingest validated every value; only a config change between ingest and here can fail.
          if (!read.ok) continue;
          const store = stores.get(plan) as MeterStore;
          const key = meterStoreKey(event.subject, readGroupBy(plan, event.data));
          const current = await store.fetch(key, windowStartMs);
          const acc = plan.aggregation.add(current === undefined ? plan.aggregation.initial() : current.acc, {
            value: read.value,
            timeMs: event.timeMs,
            offset,
            id: event.id,
          });
          await store.put(key, windowStartMs, { acc, count: (current?.count ?? 0) + 1 }, record.timestampMs);
        }
      },
    };
  };
}
