/**
 * Options of the usage client, their defaults and their checks (every
 * problem reported at once).
 */
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { defaultMaxEventBytes } from '../processors/index.js';
import { ConfigError } from '../schemas/index.js';
import type { BackoffOptions } from './backoff.js';

/** Where the client reports what it is doing; `console` fits. */
export interface UsageClientLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface UsageClientOptions {
  /** Kafka bootstrap addresses, e.g. ["127.0.0.1:9092"]. */
  readonly brokers: readonly string[];
  /** The pipeline's input topic (`topics.events`). Default "usage-events". */
  readonly topic?: string;
  /** CloudEvent `source` of this application, e.g. "//api.example.com/billing": with `id`, the event's identity. */
  readonly source: string;
  /** LevelDB directory of the outbox. Required: unsent events survive restarts there. One client per directory. */
  readonly outboxDir: string;
  /** Most events per send. Default 500. */
  readonly batchSize?: number;
  /** How long the sender waits for a batch to fill before sending a partial one, ms. Default 20. */
  readonly lingerMs?: number;
  /** Retry backoff after a failed send. Default { initialMs: 200, maxMs: 30000, jitter: 0.2 }. */
  readonly backoff?: Partial<BackoffOptions>;
  /** Events stamped further ahead of this clock are refused, as the pipeline would (`ingest.maxFutureSkew`). Default 300000 (5 min). */
  readonly maxFutureSkewMs?: number;
  /** Largest encoded event, bytes (the pipeline's limit). Default 1 MiB. */
  readonly maxEventBytes?: number;
  /** How long close() waits for a send in flight to finish, ms. Default 10000. */
  readonly closeTimeoutMs?: number;
  /** Passed to kafkajs. Default "tally-usage-client". */
  readonly clientId?: string;
  readonly ssl?: KafkaConfig['ssl'];
  readonly sasl?: SASLOptions;
  /** Default: console. Send failures are logged at warn. */
  readonly logger?: UsageClientLogger;
}

export interface ResolvedUsageClientOptions {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly source: string;
  readonly outboxDir: string;
  readonly batchSize: number;
  readonly lingerMs: number;
  readonly backoff: BackoffOptions;
  readonly maxFutureSkewMs: number;
  readonly maxEventBytes: number;
  readonly closeTimeoutMs: number;
  readonly clientId: string;
  readonly ssl: KafkaConfig['ssl'] | undefined;
  readonly sasl: SASLOptions | undefined;
  readonly logger: UsageClientLogger;
}

const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';
const wholeMs = (value: number, min: number): boolean => Number.isInteger(value) && value >= min;

/**
 * Applies the defaults and checks every option.
 * @throws ConfigError listing every problem, each naming the option
 */
export function resolveUsageClientOptions(options: UsageClientOptions): ResolvedUsageClientOptions {
  const resolved: ResolvedUsageClientOptions = {
    brokers: options.brokers,
    topic: options.topic ?? 'usage-events',
    source: options.source,
    outboxDir: options.outboxDir,
    batchSize: options.batchSize ?? 500,
    lingerMs: options.lingerMs ?? 20,
    backoff: { initialMs: 200, maxMs: 30_000, jitter: 0.2, ...options.backoff },
    maxFutureSkewMs: options.maxFutureSkewMs ?? 300_000,
    maxEventBytes: options.maxEventBytes ?? defaultMaxEventBytes,
    closeTimeoutMs: options.closeTimeoutMs ?? 10_000,
    clientId: options.clientId ?? 'tally-usage-client',
    ssl: options.ssl,
    sasl: options.sasl,
    logger: options.logger ?? console,
  };
  const problems: string[] = [];
  const { backoff } = resolved;
  if (!Array.isArray(resolved.brokers) || resolved.brokers.length === 0 || !resolved.brokers.every(nonEmpty)) {
    problems.push('brokers: give at least one Kafka bootstrap address, e.g. ["127.0.0.1:9092"]');
  }
  if (!nonEmpty(resolved.topic)) problems.push('topic: must be a non-empty topic name (the pipeline\'s topics.events)');
  if (!nonEmpty(resolved.source)) problems.push('source: required — the CloudEvent source of this application, e.g. "//api.example.com"');
  if (!nonEmpty(resolved.outboxDir)) problems.push('outboxDir: required — a directory for the durable outbox (LevelDB), e.g. ".tally/outbox"');
  if (!wholeMs(resolved.batchSize, 1)) problems.push(`batchSize: must be a whole number >= 1, got ${String(resolved.batchSize)}`);
  if (!wholeMs(resolved.lingerMs, 0)) problems.push(`lingerMs: must be a whole number of ms >= 0, got ${String(resolved.lingerMs)}`);
  if (!wholeMs(backoff.initialMs, 1)) problems.push(`backoff.initialMs: must be a whole number of ms >= 1, got ${String(backoff.initialMs)}`);
  if (!wholeMs(backoff.maxMs, backoff.initialMs)) problems.push(`backoff.maxMs: must be a whole number of ms >= backoff.initialMs, got ${String(backoff.maxMs)}`);
  if (!(backoff.jitter >= 0 && backoff.jitter <= 1)) problems.push(`backoff.jitter: must be between 0 and 1, got ${String(backoff.jitter)}`);
  if (!wholeMs(resolved.maxFutureSkewMs, 0)) problems.push(`maxFutureSkewMs: must be a whole number of ms >= 0, got ${String(resolved.maxFutureSkewMs)}`);
  if (!wholeMs(resolved.maxEventBytes, 1)) problems.push(`maxEventBytes: must be a whole number >= 1, got ${String(resolved.maxEventBytes)}`);
  if (!wholeMs(resolved.closeTimeoutMs, 0)) problems.push(`closeTimeoutMs: must be a whole number of ms >= 0, got ${String(resolved.closeTimeoutMs)}`);
  if (problems.length > 0) throw new ConfigError(problems.map((problem) => `usage client ${problem}`));
  return resolved;
}
