/**
 * Metrics of the HTTP API: requests by route pattern and status, their
 * duration, and what POST /v1/events took in or turned away.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { deadLetterReasons } from '../../schemas/index.js';

/**
 * Reasons POST /v1/events gives: the pipeline's own dead-letter codes (it runs
 * the same checks), but for `unrated`, which is about usage, not an event, and
 * `processing-failed`, the runtime's backstop after acceptance.
 * Created at 0; a reason not listed still counts from its first rejection.
 */
export const eventsApiRejectReasons = deadLetterReasons.filter((reason) => reason !== 'unrated' && reason !== 'processing-failed');

export interface HttpMetrics {
  observeHttpRequest(method: string, route: string, status: number, seconds: number): void;
  observeIngestApi(accepted: number, rejected: ReadonlyMap<string, number>): void;
}

export function registerHttpMetrics(registry: Registry): HttpMetrics {
  const registers = [registry];
  const requests = new Counter({
    name: 'tally_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern (e.g. /v1/meters/{slug}/query) and status code.',
    labelNames: ['method', 'route', 'status'],
    registers,
  });
  const duration = new Histogram({
    name: 'tally_http_request_duration_seconds',
    help: 'Time from receiving an HTTP request to sending its response, by method and route pattern.',
    labelNames: ['method', 'route'],
    registers,
  });
  const accepted = new Counter({ name: 'tally_events_api_accepted_total', help: 'Events POST /v1/events accepted and produced to the events topic.', registers });
  const rejected = new Counter({
    name: 'tally_events_api_rejected_total',
    help: 'Events POST /v1/events turned away, by reason code.',
    labelNames: ['reason'],
    registers,
  });
  for (const reason of eventsApiRejectReasons) rejected.inc({ reason }, 0);
  return {
    observeHttpRequest(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      duration.observe({ method, route }, seconds);
    },
    observeIngestApi(acceptedCount, rejectedByReason) {
      accepted.inc(acceptedCount);
      for (const [reason, count] of rejectedByReason) rejected.inc({ reason }, count);
    },
  };
}
