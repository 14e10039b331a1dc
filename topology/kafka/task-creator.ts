/**
 * Builds a task (Kafka Streams' ActiveTaskCreator): under exactly-once its
 * own transactional producer, which fences any zombie of the task before its
 * changelogs are read; its stores, opened. The task it returns is `created`.
 */
import { join } from 'node:path';
import type { Kafka, Producer } from 'kafkajs';
import { TallyError } from '../../schemas/index.js';
import type { CacheBudget } from '../../state/index.js';
import { internalTopicName } from '../internal/topic-names.js';
import type { TaskId } from '../task-id.js';
import type { Topology } from '../topology.js';
import type { ResolvedAppConfig } from './app-config.js';
import { createProducer } from './kafka-io.js';
import { KafkaTask } from './kafka-task.js';
import type { TopicPlan } from './topics.js';

export interface TaskCreatorOptions {
  readonly kafka: Kafka;
  readonly topology: Topology;
  readonly config: ResolvedAppConfig;
  readonly plan: TopicPlan;
  /** Every task's caches share it (app.cacheMaxBytes). */
  readonly cacheBudget: CacheBudget;
  /** At-least-once: the app's idempotent producer, shared by every task; undefined under exactly-once. */
  readonly sharedProducer: Producer | undefined;
}

export class TaskCreator {
  constructor(private readonly options: TaskCreatorOptions) {}

  async create(id: TaskId): Promise<KafkaTask> {
    const { kafka, topology, config, plan } = this.options;
    const subtopology = topology.subtopologies[id.subtopology];
    if (subtopology === undefined) throw new TallyError('task-unknown', `no sub-topology for task ${id.key}`);
    let producer = this.options.sharedProducer as Producer;
    const transactional = this.options.sharedProducer === undefined;
    if (transactional) {
      // Initializing the transactional id fences any zombie that still holds this task
      // and completes its pending transaction before we read the changelogs.
      producer = createProducer(kafka, { transactionalId: `${config.applicationId}-${id.key}`, transactionTimeout: config.transactionTimeoutMs });
      try {
        await producer.connect();
        // kafkajs only sends InitProducerId at the first transaction(); take the epoch now, or a
        // zombie that never committed would take a newer one later and fence the rightful owner.
        await (await producer.transaction()).abort();
      } catch (error) {
        await producer.disconnect().catch(() => undefined);
        throw error;
      }
    }
    const task = new KafkaTask({
      applicationId: config.applicationId,
      topology,
      subtopology,
      partition: id.partition,
      stateDir: join(config.stateDir, config.applicationId),
      wallClockMs: config.wallClockMs,
      resolveTopic: (t) => (topology.isInternalTopic(t) ? internalTopicName(config.applicationId, t) : t),
      producer,
      transactional,
      repartitions: plan.repartitions,
      sinkPartitions: plan.sinkPartitions,
      cacheBudget: this.options.cacheBudget,
      fedStores: new Set(config.committedStoreFeed?.storeNames ?? []),
      onProcessingFailure: (taskId, message) => {
        config.logger.warn(message);
        config.observer?.processingFailed?.(taskId.key, message);
      },
    });
    for (const store of task.allStores) await store.open();
    return task;
  }

  /** After the task closed: its own producer goes too (the shared one stays). */
  async release(task: KafkaTask): Promise<void> {
    if (task.producer !== this.options.sharedProducer) await task.producer.disconnect().catch(() => undefined);
  }
}
