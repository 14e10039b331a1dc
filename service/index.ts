/** The Tally service: pipeline on Kafka + HTTP API. */
export { startService, type ServiceOptions, type TallyService } from './service.js';
export { restorationLeft } from './routes/health-routes.js';
export { kafkaClient } from './kafka-connection.js';
export type { ShutdownReport } from './shutdown.js';
export { memoryReport, startMemoryLog } from './memory-report.js';
