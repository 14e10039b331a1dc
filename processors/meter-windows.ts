/**
 * Tumbling, epoch-aligned base windows of the meters and when they close.
 * A window [start, end) accepts events while `end + allowedLateness > streamTime`
 * (strict, as TimeWindows.isOpen); it closes — and its final record is
 * emitted — once stream time, or the wall clock for an idle partition,
 * reaches `end + allowedLateness`.
 */
export interface MeterWindowing {
  readonly sizeMs: number;
  readonly allowedLatenessMs: number;
}

export function windowStartOf(timeMs: number, sizeMs: number): number {
  return timeMs - (timeMs % sizeMs);
}

/** True while stream time has not reached the window's end + allowed lateness. */
export function isOpenByStreamTime(windowStartMs: number, streamTimeMs: number, windowing: MeterWindowing): boolean {
  return windowStartMs + windowing.sizeMs + windowing.allowedLatenessMs > streamTimeMs;
}

/**
 * The exclusive bound on window starts closed at `timeMs`: every window with
 * `end + allowedLateness <= timeMs` starts before it. Never below 0.
 */
export function closedStartBoundMs(timeMs: number, windowing: MeterWindowing): number {
  const { sizeMs, allowedLatenessMs } = windowing;
  const lastClosedIndex = Math.floor((timeMs - sizeMs - allowedLatenessMs) / sizeMs);
  return Math.max(0, (lastClosedIndex + 1) * sizeMs);
}

/** Window boundaries seen lately, as ISO-8601 UTC: every meter record names two, and most share them. */
const isoByMs = new Map<number, string>();
const maxCachedIsoTimes = 4_096;

/** `new Date(ms).toISOString()`, remembered for the boundaries of recent windows. */
export function windowIso(ms: number): string {
  let iso = isoByMs.get(ms);
  if (iso === undefined) {
    iso = new Date(ms).toISOString();
    if (isoByMs.size >= maxCachedIsoTimes) isoByMs.clear();
    isoByMs.set(ms, iso);
  }
  return iso;
}
