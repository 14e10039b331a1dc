/**
 * The unauthenticated routes: liveness, readiness (only after restoration)
 * and Prometheus metrics.
 */
import type { Registry } from 'prom-client';
import type { KafkaApp } from '../../topology/kafka/index.js';
import type { Route } from '../http/router.js';

/** Changelog records still to restore over every local task, and how many tasks are restoring. */
export function restorationLeft(app: KafkaApp): { records: number; tasks: number } {
  const restoring = app.snapshot().tasks.filter((t) => t.restoring);
  return { records: restoring.reduce((sum, t) => sum + t.restoreRemaining, 0), tasks: restoring.length };
}

/** `app()` is undefined until the pipeline has been created. */
export function healthRoutes(app: () => KafkaApp | undefined, registry: Registry, failureReason: () => string | undefined): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/healthz',
      public: true,
      async handle() {
        const reason = failureReason();
        const state = app()?.state ?? 'starting';
        if (reason !== undefined) return { status: 503, json: { status: 'failed', state, reason } };
        return { status: 200, json: { status: 'ok', state } };
      },
    },
    {
      method: 'GET',
      pattern: '/readyz',
      public: true,
      async handle() {
        const current = app();
        if (current === undefined) return { status: 503, json: { ready: false, state: 'starting', restoreRemaining: 0, restoringTasks: 0 } };
        if (current.ready) return { status: 200, json: { ready: true, state: current.state } };
        const left = restorationLeft(current);
        return { status: 503, json: { ready: false, state: current.state, restoreRemaining: left.records, restoringTasks: left.tasks } };
      },
    },
    {
      method: 'GET',
      pattern: '/metrics',
      public: true,
      handle: async () => ({ status: 200, text: await registry.metrics(), contentType: registry.contentType }),
    },
  ];
}
