/** Running topologies on a Kafka cluster. */
export { createApp, appStates } from './kafka-app.js';
export type { AppState, KafkaApp } from './kafka-app.js';
export { resolveAppConfig, processingGuarantees } from './app-config.js';
export type { AppLogger, KafkaAppConfig, ProcessingGuarantee } from './app-config.js';
export { withRetries } from './kafka-io.js';
export { assignTasks, decodeGroupMember, type GroupMemberView } from './task-assignor.js';
export type { AppObserver, AppSnapshot, TaskSnapshot, SourceSnapshot, StoreSnapshot, LocalStore } from './app-observer.js';
export type { CommittedStoreFeed, FedWrite } from './committed-store-feed.js';
