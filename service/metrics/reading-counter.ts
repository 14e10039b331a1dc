/**
 * A Prometheus counter whose value lives elsewhere — in a plain object the
 * processors bump — and is read when Prometheus scrapes.
 */
import { Counter, type Registry } from 'prom-client';

/** One series of a reading: its label values and the current total. */
export type Reading<L extends string> = readonly [labels: Partial<Record<L, string>>, total: number];

export interface ReadingCounterOptions<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly L[];
  /** Every series with its current total; called at each scrape. */
  readonly read: () => Iterable<Reading<L>>;
}

/**
 * Registers a counter that, at each scrape, moves by how far the reading went
 * past the highest total reported so far. It stays monotonic even when a
 * reading is derived (a difference of two counters) and briefly dips: the dip
 * is ignored and only growth beyond the old high mark is counted.
 */
export function registerReadingCounter<L extends string>(registry: Registry, options: ReadingCounterOptions<L>): Counter<L> {
  const reported = new Map<string, number>();
  const counter: Counter<L> = new Counter<L>({
    name: options.name,
    help: options.help,
    labelNames: options.labelNames ?? [],
    registers: [registry],
    collect: () => {
      for (const [labels, total] of options.read()) {
        const key = JSON.stringify(labels);
        const before = reported.get(key);
        if (before === undefined) {
          // First sight: create the series (at 0 when nothing happened yet).
          counter.inc(labels, Math.max(0, total));
          reported.set(key, Math.max(0, total));
        } else if (total > before) {
          counter.inc(labels, total - before);
          reported.set(key, total);
        }
      }
    },
  });
  return counter;
}
