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
 *   already finalized is never emitted after its final. The windows to close
 *   come from an in-memory index of open windows (see open-windows.ts),
 *   rebuilt from the stores when the task starts: closing never scans.
 *
 * An event for a closed window (by stream time, or finalized by either clock)
 * goes to `lateChild`, once per meter it would have counted for.
 *
 * With `deltas`, every flushed change of a window of a meter in `deltas.meters` also
 * goes to `deltas.child` as a `MeterDelta` keyed by subject (usage for
 * rating), computed from the store's old and new value — also for a window
 * finalized between its last change and the flush, whose update is not
 * emitted but whose usage must still be billed.
 */
import { TallyError } from '../schemas/errors.js';
import type { CacheFlushListener, FlushListenerOptions, KeyValueStore, WindowStore } from '../state/index.js';
import { StreamRecord, type ProcessorContext, type ProcessorSupplier } from '../topology/index.js';
import type { LateEventRecord } from '../schemas/records.js';
import type { MeterWindowValue } from './aggregations/aggregation.js';
import type { IngestedEvent } from './ingest/ingested-event.js';
import { meterRecordKey, meterRecordKeyOfStoreKey, meterStoreKeyOfJson, parseMeterStoreKey } from './meter-keys.js';
import { loadCloseState, meterCloseStateStoreName, saveCloseState, type MeterCloseState } from './meter-close-state.js';
import { readGroupBy, readGroupByJson, readMeterValue, type MeterPlan, type MeterPlans } from './meter-plan.js';
import { lateEventRecord, meterRecordJson } from './meter-records.js';
import { closedStartBoundMs, isOpenByStreamTime, windowStartOf, type MeterWindowing } from './meter-windows.js';
import type { MeteringCounters } from './metering-counters.js';
import { compareCodePoints } from './code-point-order.js';
import { OpenWindowIndex, type OpenWindow } from './open-windows.js';
import { usageChange, type MeterDelta } from './rating/index.js';

/** Parsed store keys kept per task (see parseKey). */
const maxParsedKeys = 65_536;

/** How often (ms) the wall-clock punctuator checks for windows an idle partition left open. */
export const meterWallClockCloseIntervalMs = 1_000;

/** About how many finals the wall-clock punctuator emits before it asks whether it may go on. */
export const finalsPerWallClockStep = 1_024;

export interface MeterAggregateOptions {
  readonly plans: MeterPlans;
  readonly windowing: MeterWindowing;
  readonly metersChild: string;
  readonly lateChild: string;
  readonly counters: MeteringCounters;
  /** The meter stores' segment span (ms): finals go out in store order (segment, key, window start). */
  readonly segmentIntervalMs: number;
  /** Where usage for rating goes (`MeterDelta`, key = subject), for the meters in `meters`; absent: no rating. */
  readonly deltas?: { readonly child: string; readonly meters: ReadonlySet<string> };
}

type MeterStore = WindowStore<MeterWindowValue> & {
  setFlushListener?(listener: CacheFlushListener<MeterWindowValue> | undefined, options?: FlushListenerOptions): void;
};

/** Meter updates and finals go out as their JSON text (see meterRecordJson). */
type Output = string | LateEventRecord | MeterDelta;

export function meterAggregateProcessor(options: MeterAggregateOptions): ProcessorSupplier<string, IngestedEvent, string, Output> {
  const { plans, windowing, metersChild, lateChild, counters, deltas, segmentIntervalMs } = options;
  const segmentOf = (windowStartMs: number): number => windowStartMs - (windowStartMs % segmentIntervalMs);
  /** The stores' order: segment, then key (code point order is the encoded keys' byte order), then start. */
  const storeOrder = (left: OpenWindow<MeterPlan>, right: OpenWindow<MeterPlan>): number =>
    segmentOf(left.windowStartMs) - segmentOf(right.windowStartMs) || compareCodePoints(left.key, right.key) || left.windowStartMs - right.windowStartMs;
  const { sizeMs, allowedLatenessMs } = windowing;
  return () => {
    let context: ProcessorContext<string, Output>;
    let stores: Map<MeterPlan, MeterStore>;
    let closeStore: KeyValueStore<MeterCloseState>;
    let closeState: MeterCloseState;
    const openWindows = new OpenWindowIndex<MeterPlan>();

    /** Forwards to a sink child: synchronous up to the sink, so flush listeners may call it. */
    function emit(key: string, value: Output, timestampMs: number, child: string): void {
      context.forward(new StreamRecord({ key, value, timestampMs }), child);
    }

    /** Store keys parsed lately (for rating's deltas): a key's windows follow each other. Values are shared: never mutate them. */
    const parsedKeys = new Map<string, { subject: string; groupBy: Record<string, string> }>();
    function parseKey(storeKey: string): { subject: string; groupBy: Record<string, string> } {
      let parsed = parsedKeys.get(storeKey);
      if (parsed === undefined) {
        parsed = parseMeterStoreKey(storeKey);
        if (parsedKeys.size >= maxParsedKeys) parsedKeys.clear();
        parsedKeys.set(storeKey, parsed);
      }
      return parsed;
    }

    function emitWindow(plan: MeterPlan, storeKey: string, windowStartMs: number, window: MeterWindowValue, final: boolean): void {
      const value = meterRecordJson(plan, storeKey, windowStartMs, sizeMs, window, final);
      if (final) counters.meterFinals++;
      else counters.meterUpdates++;
      // Every record of a window carries the window's last instant: an event time, never ahead of the data.
      emit(meterRecordKeyOfStoreKey(plan.slug, storeKey, windowStartMs), value, windowStartMs + sizeMs - 1, metersChild);
    }

    /** Rating's share of a window change: usage added since the previous flush (see MeterDelta). */
    function emitDelta(plan: MeterPlan, storeKey: string, windowStartMs: number, newValue: MeterWindowValue, oldValue: MeterWindowValue | undefined): void {
      const change = usageChange(plan.aggregationName, newValue, oldValue);
      if (change === undefined || deltas === undefined) return;
      const { subject, groupBy } = parseKey(storeKey);
      const windowEndMs = windowStartMs + sizeMs;
      const delta: MeterDelta = { meter: plan.slug, aggregation: plan.aggregationName, subject, groupBy, windowStartMs, windowEndMs, change };
      emit(subject, delta, windowEndMs - 1, deltas.child);
    }

    function isClosed(windowStartMs: number): boolean {
      return windowStartMs < closeState.closedBeforeStartMs || !isOpenByStreamTime(windowStartMs, context.streamTimeMs, windowing);
    }

    /**
     * Emits the final record of the windows that `timeMs` closes and moves
     * the durable bound past them: all of them, or, given `maxFinals`, whole
     * window starts in order until about that many finals went out. Returns
     * true when every window `timeMs` closes is closed.
     */
    function closeWindows(timeMs: number, maxFinals = Number.POSITIVE_INFINITY): boolean {
      const closingBeforeMs = closedStartBoundMs(timeMs, windowing);
      if (closingBeforeMs <= closeState.closedBeforeStartMs) return true;
      const boundMs = openWindows.stepBound(closingBeforeMs, maxFinals);
      for (const [plan, windows] of openWindows.takeBefore(boundMs, stores.keys())) {
        const store = stores.get(plan) as MeterStore;
        if (windows.length > 1) windows.sort(storeOrder);
        for (const { key, windowStartMs } of windows) {
          const value = store.fetchFinal(key, windowStartMs);
          if (value !== undefined) emitWindow(plan, key, windowStartMs, value, true);
        }
      }
      closeState = { closedBeforeStartMs: boundMs, closedAtMs: timeMs };
      saveCloseState(closeStore, closeState, timeMs);
      return boundMs === closingBeforeMs;
    }

    /**
     * The wall clock closes what an idle partition left open — after a
     * backlog of old input, every window at once. It closes them in steps of
     * about `finalsPerWallClockStep` while the runtime lets it go on (its
     * slice of event-loop time, the task's output), and leaves the rest to
     * its next firing, so the finals neither hold up the other partitions'
     * input nor wait in memory all together. Records processed in between
     * see the bound where the last step left it: a window not yet finalized
     * still counts them, and its final, later, includes them.
     */
    function closeWindowsByWallClock(timeMs: number): void {
      let closed = false;
      while (!closed && context.mayContinue()) closed = closeWindows(timeMs, finalsPerWallClockStep);
    }

    /** After restoration: every window at or after the close bound is open. */
    async function indexOpenWindows(): Promise<void> {
      for (const [plan, store] of stores) {
        for await (const entry of store.fetchAll(closeState.closedBeforeStartMs, Number.MAX_SAFE_INTEGER)) openWindows.add(plan, entry.key, entry.windowStartMs);
      }
    }

    function listenForUpdates(plan: MeterPlan, store: MeterStore): void {
      if (store.setFlushListener === undefined) {
        throw new TallyError('store-not-cached', `meter store ${plan.storeName} has no cache: meter updates are emitted when the cache flushes`);
      }
      const rated = deltas !== undefined && deltas.meters.has(plan.slug);
      store.setFlushListener(
        (entry) => {
          const { windowStartMs, newValue, oldValue } = entry;
          if (newValue === undefined || windowStartMs === undefined) return;
          // A finalized window already went out with this value, marked final: never follow it with an update.
          if (windowStartMs >= closeState.closedBeforeStartMs) emitWindow(plan, entry.key, windowStartMs, newValue, false);
          if (rated) emitDelta(plan, entry.key, windowStartMs, newValue, oldValue);
        },
        // Only rating's deltas need the value before the change.
        { sendOldValues: rated },
      );
    }

    return {
      async init(ctx) {
        context = ctx;
        stores = new Map(plans.all.map((plan) => [plan, ctx.getWindowStore<MeterWindowValue>(plan.storeName) as MeterStore]));
        for (const [plan, store] of stores) listenForUpdates(plan, store);
        closeStore = ctx.getKeyValueStore<MeterCloseState>(meterCloseStateStoreName);
        closeState = loadCloseState(closeStore);
        await indexOpenWindows();
        // Interval 1 ms: runs after every record that advances stream time.
        ctx.schedule(1, 'stream-time', (timeMs) => void closeWindows(timeMs));
        ctx.schedule(meterWallClockCloseIntervalMs, 'wall-clock', closeWindowsByWallClock);
      },

      process(record) {
        const { event, offset } = record.value;
        const meters = plans.byEventType.get(event.type);
        if (meters === undefined) return;
        const windowStartMs = windowStartOf(event.timeMs, sizeMs);
        if (isClosed(windowStartMs)) {
          const closedAtMs = Math.max(context.streamTimeMs, closeState.closedAtMs);
          for (const plan of meters) {
            counters.lateEvents++;
            const late = lateEventRecord(plan, event, windowStartMs, sizeMs, allowedLatenessMs, closedAtMs);
            emit(meterRecordKey(plan.slug, event.subject, readGroupBy(plan, event.data), windowStartMs), late, record.timestampMs, lateChild);
          }
          return;
        }
        for (const plan of meters) {
          const read = readMeterValue(plan, event.data);
          // The ingest validated every value; only a config change between ingest and here can fail.
          if (!read.ok) continue;
          const store = stores.get(plan) as MeterStore;
          const key = meterStoreKeyOfJson(event.subject, readGroupByJson(plan, event.data));
          // An open window the index does not hold was never written: no store read (and no LevelDB miss).
          // Indexed before the put: a put refused (past retention) leaves a window whose close finds nothing.
          const current = openWindows.add(plan, key, windowStartMs) ? undefined : store.fetch(key, windowStartMs);
          const acc = plan.aggregation.add(current === undefined ? plan.aggregation.initial() : current.acc, {
            value: read.value,
            timeMs: event.timeMs,
            offset,
            id: event.id,
          });
          store.put(key, windowStartMs, { acc, count: (current?.count ?? 0) + 1 }, record.timestampMs);
        }
      },
    };
  };
}

