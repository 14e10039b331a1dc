/**
 * Whether the Kafka cluster answers, for `/readyz`. The pipeline's own
 * clients retry quietly through an outage and its state does not change, so
 * readiness asks the cluster itself: a metadata request on an admin client
 * of its own that never retries, bounded by `timeoutMs`. Answers are reused
 * for `freshMs`, so a burst of probes costs one request; after a failure the
 * client is replaced, so the next probe connects afresh.
 */
import type { Admin } from 'kafkajs';
import type { TallyConfig } from '../schemas/index.js';
import { kafkaClient } from './kafka-connection.js';

export interface KafkaProbe {
  /** Undefined when the cluster answered; else what went wrong (the broker error, or no answer in time). */
  problem(): Promise<string | undefined>;
  close(): Promise<void>;
}

export interface KafkaProbeOptions {
  /** Longest wait for an answer; default 3 s. */
  readonly timeoutMs?: number;
  /** How long an answer is reused; default 1 s. */
  readonly freshMs?: number;
}

export function createKafkaProbe(config: TallyConfig, options: KafkaProbeOptions = {}): KafkaProbe {
  const timeoutMs = options.timeoutMs ?? 3_000;
  const freshMs = options.freshMs ?? 1_000;
  const clientId = `${config.kafka.clientId ?? config.app.id}-readiness`;
  let admin: Admin | undefined;
  let last: { atMs: number; problem: string | undefined } | undefined;
  let inFlight: Promise<string | undefined> | undefined;
  let closed = false;

  async function ask(): Promise<string | undefined> {
    admin ??= kafkaClient(config, clientId, { retries: 0, initialRetryMs: 100, maxRetryMs: 1_000 }).admin();
    const current = admin;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from the brokers (${config.kafka.brokers.join(', ')}) within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([current.connect().then(() => current.describeCluster()), timeout]);
      return undefined;
    } catch (error) {
      admin = undefined;
      void current.disconnect().catch(() => undefined);
      return (error as Error).message;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    problem() {
      if (closed) return Promise.resolve('the service is shutting down');
      if (last !== undefined && Date.now() - last.atMs < freshMs) return Promise.resolve(last.problem);
      inFlight ??= ask().then((problem) => {
        last = { atMs: Date.now(), problem };
        inFlight = undefined;
        return problem;
      });
      return inFlight;
    },
    async close() {
      closed = true;
      await inFlight;
      await admin?.disconnect();
      admin = undefined;
    },
  };
}
