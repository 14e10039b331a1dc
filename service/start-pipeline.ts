/**
 * Builds the metering (and rating) topology from the config and starts it on
 * Kafka with the service's observer and advertised query endpoint.
 */
import { buildMeteringTopology, type MeteringCounters, type RatingCounters } from '../processors/index.js';
import { createIngestDecoder } from '../processors/ingest/index.js';
import type { TallyConfig } from '../schemas/index.js';
import { createApp, type AppLogger, type AppObserver, type CommittedStoreFeed, type KafkaApp } from '../topology/kafka/index.js';
import { kafkaConnection } from './kafka-connection.js';

export interface PipelineOptions {
  readonly logger: AppLogger;
  readonly counters: MeteringCounters;
  readonly ratingCounters: RatingCounters;
  readonly observer: AppObserver;
  /** `host:port` of this instance's HTTP API, shared with the group. */
  readonly applicationServer: string;
  readonly wallClockMs?: (() => number) | undefined;
  readonly sessionTimeoutMs?: number | undefined;
  readonly heartbeatIntervalMs?: number | undefined;
  readonly rebalanceTimeoutMs?: number | undefined;
  /** Told the committed contents of some stores (the HTTP front's replica). */
  readonly committedStoreFeed?: CommittedStoreFeed;
  /** Told about each app created (a retry creates a new one). */
  readonly onApp: (app: KafkaApp) => void;
}

const startAttempts = 3;

/** Starts the pipeline (joining the group; restoration and processing follow in the background). */
export async function startPipeline(config: TallyConfig, options: PipelineOptions): Promise<KafkaApp> {
  const { logger } = options;
  const decoder = createIngestDecoder(config, { onWarning: (m) => logger.warn(m) });
  const topology = buildMeteringTopology(config, {
    decoder,
    counters: options.counters,
    ratingCounters: options.ratingCounters,
    ...(options.wallClockMs === undefined ? {} : { wallClockMs: options.wallClockMs }),
  });
  const optional = {
    ...(config.kafka.clientId === undefined ? {} : { clientId: config.kafka.clientId }),
    ...(options.wallClockMs === undefined ? {} : { wallClockMs: options.wallClockMs }),
    ...(options.sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs: options.sessionTimeoutMs }),
    ...(options.heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs: options.heartbeatIntervalMs }),
    ...(options.rebalanceTimeoutMs === undefined ? {} : { rebalanceTimeoutMs: options.rebalanceTimeoutMs }),
    ...(options.committedStoreFeed === undefined ? {} : { committedStoreFeed: options.committedStoreFeed }),
  };
  const create = (): KafkaApp =>
    createApp(topology, {
      ...kafkaConnection(config),
      ...optional,
      applicationId: config.app.id,
      stateDir: config.app.stateDir,
      processingGuarantee: config.app.processingGuarantee,
      commitIntervalMs: config.app.commitIntervalMs,
      cacheMaxBytes: config.app.cacheMaxBytes,
      ...(config.app.fetchMaxBytes === undefined ? {} : { fetchMaxBytes: config.app.fetchMaxBytes }),
      logger,
      observer: options.observer,
      applicationServer: options.applicationServer,
    });
  // Right after internal topics are created, a KRaft broker may answer UNKNOWN_TOPIC_OR_PARTITION
  // for a moment (the runtime's topic set-up does not retry it): a fresh app, a few times.
  for (let attempt = 1; ; attempt++) {
    const app = create();
    options.onApp(app);
    try {
      await app.start();
      return app;
    } catch (error) {
      await app.close().catch(() => undefined);
      if ((error as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION' || attempt >= startAttempts) throw error;
      logger.warn(`starting the pipeline met ${(error as Error).message} right after topic creation; retrying (${attempt}/${startAttempts - 1})`);
    }
  }
}
