/**
 * The service the demo watches: `startService` (topics checked, customers
 * seeded, pipeline and HTTP API on a free port), awaited until every task is
 * restored and processing.
 */
import type { TallyConfig } from '../../schemas/config-types.js';
import { startService } from '../../service/index.js';
import type { AppLogger } from '../../topology/kafka/index.js';

export interface DemoPipeline {
  /** Base URL of the HTTP API. */
  readonly url: string;
  /** Resolves with the reason if the pipeline fails; never rejects. */
  readonly failure: Promise<Error>;
  /** Stops the HTTP API, commits and leaves the group. Idempotent. */
  close(): Promise<void>;
}

export async function startDemoPipeline(config: TallyConfig, logger: AppLogger): Promise<DemoPipeline> {
  // A short session: a demo stopped with a second Ctrl-C must not hold the group for 30 s on an existing cluster.
  const service = await startService(config, { logger, httpPort: 0, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 });
  try {
    await service.ready;
  } catch (error) {
    await service.close().catch(() => undefined);
    throw error;
  }
  return service;
}
