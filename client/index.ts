/**
 * The producer SDK: a small client for applications that send usage to
 * Tally. See docs/producer-sdk.md.
 */
export { createUsageClient, type UsageClient, type UsageClientStats } from './usage-client.js';
export type { UsageClientOptions, UsageClientLogger } from './usage-client-options.js';
export type { UsageRecordInput, UsageEventRules } from './usage-event.js';
export type { BackoffOptions } from './backoff.js';
export { InvalidUsageEventError, UsageClientError } from './client-errors.js';
export { checkUsageEventBytes } from './usage-event.js';
export { createKafkaClient, createIdempotentProducer, allReplicasAcks, type KafkaConnectionOptions, type ProducerRetryOptions } from './idempotent-producer.js';
