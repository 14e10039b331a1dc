/**
 * The unauthenticated routes: liveness, readiness (only after restoration,
 * and only while Kafka answers) and Prometheus metrics.
 */
import type { Registry } from 'prom-client';
import type { AppState, KafkaApp } from '../../topology/kafka/index.js';
import type { Route } from '../http/router.js';
import type { KafkaProbe } from '../kafka-probe.js';

/** Changelog records still to restore over every local task, and how many tasks are restoring. */
export function restorationLeft(app: KafkaApp): { records: number; tasks: number } {
  const restoring = app.snapshot().tasks.filter((t) => t.restoring);
  return { records: restoring.reduce((sum, t) => sum + t.restoreRemaining, 0), tasks: restoring.length };
}

/** Why an app that is not ready is not, in its state's words. */
const notReadyReasons: Readonly<Record<AppState, string>> = {
  created: 'the pipeline has not started',
  starting: 'the pipeline is joining the consumer group',
  rebalancing: 'the consumer group is rebalancing: tasks are being assigned',
  running: 'tasks are restoring their state from the changelogs',
  closing: 'the service is shutting down',
  closed: 'the service has shut down',
  failed: 'the pipeline failed',
};

/** `app()` is undefined until the pipeline has been created. */
export function healthRoutes(app: () => KafkaApp | undefined, registry: Registry, failureReason: () => string | undefined, kafka: KafkaProbe): Route[] {
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
        if (current === undefined) return { status: 503, json: { ready: false, state: 'starting', reason: notReadyReasons.starting, restoreRemaining: 0, restoringTasks: 0 } };
        const failed = failureReason();
        if (failed !== undefined) return { status: 503, json: { ready: false, state: current.state, reason: `${notReadyReasons.failed}: ${failed}` } };
        const kafkaProblem = await kafka.problem();
        const unreachable = kafkaProblem === undefined ? undefined : `Kafka is unreachable: ${kafkaProblem}`;
        if (current.ready && unreachable === undefined) return { status: 200, json: { ready: true, state: current.state } };
        const left = restorationLeft(current);
        const reason = unreachable ?? notReadyReasons[current.state];
        return { status: 503, json: { ready: false, state: current.state, reason, restoreRemaining: left.records, restoringTasks: left.tasks } };
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
