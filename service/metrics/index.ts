/**
 * Prometheus metrics of a running Tally service (prom-client), named in the
 * Kafka Streams spirit with a `tally_` prefix. Runtime events arrive through
 * the {@link AppObserver}; lag, restoration and store sizes are read from the
 * app's snapshot when Prometheus scrapes; the processors' plain counters are
 * read then too, as monotonic counters. Every series carries the constant
 * label `application` (the app id). docs/metrics.md lists them all.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { MeteringCounters } from '../../processors/index.js';
import type { RatingCounters } from '../../processors/rating/index.js';
import type { AppObserver, AppSnapshot } from '../../topology/kafka/index.js';
import { registerHttpMetrics } from './http-metrics.js';
import { registerMeteringMetrics, registerRatingMetrics } from './pipeline-metrics.js';
import { createRuntimeObserver } from './runtime-metrics.js';
import { registerSnapshotMetrics } from './snapshot-metrics.js';

export { eventsApiRejectReasons } from './http-metrics.js';
export { knownTransactionAbortReasons } from './runtime-metrics.js';

export interface ServiceMetricsOptions {
  readonly applicationId: string;
  readonly metering: MeteringCounters;
  readonly rating: RatingCounters;
  /** The app's snapshot, read at scrape time (undefined before the app exists). */
  readonly snapshot: () => AppSnapshot | undefined;
  /** Also export prom-client's process and Node.js metrics (`tally_process_*`, `tally_nodejs_*`); default true. */
  readonly processMetrics?: boolean;
}

export interface ServiceMetrics {
  readonly registry: Registry;
  /** Pass to createApp's `observer`. */
  readonly observer: AppObserver;
  /** One HTTP request answered (route is the pattern, e.g. `/v1/meters/{slug}/query`). */
  observeHttpRequest(method: string, route: string, status: number, seconds: number): void;
  /** Events taken by POST /v1/events: accepted (produced) and rejected (by reason). */
  observeIngestApi(accepted: number, rejected: ReadonlyMap<string, number>): void;
}

/** A registry of its own (not prom-client's global one), so several services can share a process. */
export function createServiceMetrics(options: ServiceMetricsOptions): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ application: options.applicationId });
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'tally_' });
  const runtime = createRuntimeObserver(registry);
  registerSnapshotMetrics(registry, options.snapshot);
  registerMeteringMetrics(registry, options.metering, runtime.processingFailures);
  registerRatingMetrics(registry, options.rating);
  const http = registerHttpMetrics(registry);
  return { registry, observer: runtime.observer, observeHttpRequest: http.observeHttpRequest, observeIngestApi: http.observeIngestApi };
}
