/** Running topologies on a Kafka cluster. */
export { createApp, appStates } from './kafka-app.js';
export type { AppState, KafkaApp } from './kafka-app.js';
export { resolveAppConfig, processingGuarantees } from './app-config.js';
export type { AppLogger, KafkaAppConfig, ProcessingGuarantee } from './app-config.js';
export { assignTasks } from './task-assignor.js';
