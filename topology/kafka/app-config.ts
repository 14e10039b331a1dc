/**
 * Settings of a topology running on Kafka, with their defaults and checks.
 */
import type { SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import { ConfigError, defaultFetchMaxBytes } from '../../schemas/index.js';
import { defaultCacheMaxBytes } from '../../state/index.js';
import type { AppObserver } from './app-observer.js';
import type { CommittedStoreFeed } from './committed-store-feed.js';

export const processingGuarantees = ['exactly_once', 'at_least_once'] as const;
export type ProcessingGuarantee = (typeof processingGuarantees)[number];

export interface AppLogger {
  /** Detail nobody needs to act on (e.g. kafkajs retrying while a group forms); optional, dropped when absent. */
  debug?(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface KafkaAppConfig {
  /** Consumer group id, prefix of internal topics and transactional ids. */
  readonly applicationId: string;
  readonly brokers: readonly string[];
  /** Stores live under `<stateDir>/<applicationId>/<task>/<store>`. */
  readonly stateDir: string;
  readonly processingGuarantee?: ProcessingGuarantee;
  readonly commitIntervalMs?: number;
  /** Bytes the record caches of all tasks of this instance may hold together (estimated); default 16 MiB. */
  readonly cacheMaxBytes?: number;
  /** Most bytes one fetch from a broker returns (Kafka's fetch.max.bytes); default 10 MiB. */
  readonly fetchMaxBytes?: number;
  /** Must exceed commitIntervalMs (an open transaction must outlive a commit interval). */
  readonly transactionTimeoutMs?: number;
  readonly sessionTimeoutMs?: number;
  readonly rebalanceTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  /** How often wall-clock punctuators are checked. */
  readonly wallClockTickMs?: number;
  /** Replication factor for internal topics; -1 = the broker's default. */
  readonly replicationFactor?: number;
  readonly clientId?: string;
  readonly ssl?: boolean | ConnectionOptions;
  readonly sasl?: SASLOptions;
  /** The wall clock; tests may replace it. */
  readonly wallClockMs?: () => number;
  readonly logger?: AppLogger;
  /** Told about processing, commits, aborts, rebalances and restorations (metrics). */
  readonly observer?: AppObserver;
  /**
   * `host:port` where this instance answers interactive queries; shared with the
   * group in the assignor's metadata so others can find a store's owner.
   */
  readonly applicationServer?: string;
  /** Told the committed contents of some stores as they change, for a read replica kept elsewhere (committed-store-feed.ts). */
  readonly committedStoreFeed?: CommittedStoreFeed;
}

type OptionalKeys = 'ssl' | 'sasl' | 'clientId' | 'observer' | 'applicationServer' | 'committedStoreFeed';
export type ResolvedAppConfig = Required<Omit<KafkaAppConfig, OptionalKeys>> & Pick<KafkaAppConfig, OptionalKeys>;

const consoleLogger: AppLogger = {
  info: (m) => console.log(m),
  warn: (m) => console.warn(m),
  error: (m) => console.error(m),
};

/** Applies defaults and reports every problem at once. */
export function resolveAppConfig(config: KafkaAppConfig): ResolvedAppConfig {
  const resolved: ResolvedAppConfig = {
    processingGuarantee: 'exactly_once',
    commitIntervalMs: 100,
    cacheMaxBytes: defaultCacheMaxBytes,
    fetchMaxBytes: defaultFetchMaxBytes,
    transactionTimeoutMs: 60_000,
    sessionTimeoutMs: 30_000,
    rebalanceTimeoutMs: 60_000,
    heartbeatIntervalMs: 3_000,
    wallClockTickMs: 1_000,
    replicationFactor: -1,
    wallClockMs: Date.now,
    logger: consoleLogger,
    ...config,
  };
  const problems: string[] = [];
  if (!/^[A-Za-z0-9._-]+$/.test(resolved.applicationId)) problems.push(`app.id: "${resolved.applicationId}" must use letters, digits, ".", "_" and "-" (it prefixes topic names)`);
  if (resolved.brokers.length === 0) problems.push('kafka.brokers: give at least one broker, e.g. 127.0.0.1:9092');
  if (!processingGuarantees.includes(resolved.processingGuarantee)) problems.push(`app.processingGuarantee: "${resolved.processingGuarantee}" is not one of ${processingGuarantees.join(', ')}`);
  for (const key of ['commitIntervalMs', 'transactionTimeoutMs', 'sessionTimeoutMs', 'rebalanceTimeoutMs', 'heartbeatIntervalMs', 'wallClockTickMs'] as const) {
    if (!(Number.isInteger(resolved[key]) && resolved[key] > 0)) problems.push(`${key}: must be a positive whole number of ms, got ${resolved[key]}`);
  }
  if (resolved.transactionTimeoutMs <= resolved.commitIntervalMs) {
    problems.push(`transactionTimeoutMs (${resolved.transactionTimeoutMs}) must exceed app.commitIntervalMs (${resolved.commitIntervalMs}): a transaction stays open for a whole commit interval`);
  }
  if (!(Number.isSafeInteger(resolved.cacheMaxBytes) && resolved.cacheMaxBytes >= 0)) problems.push(`app.cacheMaxBytes: must be a whole number of bytes >= 0, got ${resolved.cacheMaxBytes}`);
  if (!(Number.isSafeInteger(resolved.fetchMaxBytes) && resolved.fetchMaxBytes >= 1024)) problems.push(`app.fetchMaxBytes: must be a whole number of bytes >= 1024, got ${resolved.fetchMaxBytes}`);
  if (resolved.heartbeatIntervalMs >= resolved.sessionTimeoutMs) problems.push(`heartbeatIntervalMs (${resolved.heartbeatIntervalMs}) must be below sessionTimeoutMs (${resolved.sessionTimeoutMs})`);
  if (problems.length > 0) throw new ConfigError(problems);
  return resolved;
}
