/**
 * A one-line account of the process's memory, for finding where it goes:
 * resident set, V8's heap (used, committed, limit, and the young and old
 * generations), memory outside the heap (Buffers), and the LevelDB databases
 * open with the memory they are configured with. `tally run` logs it
 * periodically when TALLY_MEMORY_LOG_MS is set (a diagnostic, off by default).
 */
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { levelDatabaseStats } from '../state/index.js';
import type { AppLogger } from '../topology/kafka/index.js';

const mib = (bytes: number): string => (bytes / (1024 * 1024)).toFixed(1);

/** `memory: rss=… heapUsed=… …` in MiB; `leveldb=N (X MiB configured)`. */
export function memoryReport(): string {
  const usage = process.memoryUsage();
  const heap = getHeapStatistics();
  const spaces = new Map(getHeapSpaceStatistics().map((s) => [s.space_name, s]));
  const space = (name: string): string => {
    const s = spaces.get(name);
    return s === undefined ? 'n/a' : `${mib(s.space_used_size)}/${mib(s.space_size)}`;
  };
  const level = levelDatabaseStats();
  return (
    `memory MiB: rss=${mib(usage.rss)} heapUsed=${mib(usage.heapUsed)} heapTotal=${mib(usage.heapTotal)} heapLimit=${mib(heap.heap_size_limit)} ` +
    `newSpace=${space('new_space')} oldSpace=${space('old_space')} largeObjects=${space('large_object_space')} ` +
    `external=${mib(usage.external)} arrayBuffers=${mib(usage.arrayBuffers)} leveldb=${level.open} (${mib(level.configuredBytes)} configured)`
  );
}

/** Logs `memoryReport()` every `intervalMs` until the returned function is called. */
export function startMemoryLog(logger: AppLogger, intervalMs: number): () => void {
  const timer = setInterval(() => logger.info(memoryReport()), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
