/**
 * The metering topology as a standalone process, for crash tests: the config
 * document (tally.yaml as JSON) goes through `parseConfig`, the decoder and
 * topology are built from it as `tally run` would, and the Kafka runner runs it.
 *
 *   tsx metering-app.ts '{"document":{…tally.yaml as JSON…},"sessionTimeoutMs":6000}'
 *
 * Prints `ready` once its tasks run, `tasks <ids>` on every change, `counters <json>`
 * every second, and logs; SIGTERM closes it cleanly.
 */
import { buildMeteringTopology, createMeteringCounters } from '../../../processors/index.js';
import { createIngestDecoder } from '../../../processors/ingest/index.js';
import { parseConfig } from '../../../schemas/index.js';
import { createApp, type KafkaApp } from '../../../topology/kafka/index.js';

interface Options {
  readonly document: Record<string, unknown>;
  readonly sessionTimeoutMs?: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as Options;
const config = parseConfig(JSON.stringify(options.document), 'metering-app tally.yaml');
const log = (level: string) => (message: string) => process.stdout.write(`${level} ${message}\n`);
const counters = createMeteringCounters();
const topology = buildMeteringTopology(config, { decoder: createIngestDecoder(config, { onWarning: log('warn') }), counters });
const create = (): KafkaApp =>
  createApp(topology, {
    applicationId: config.app.id,
    brokers: config.kafka.brokers,
    stateDir: config.app.stateDir,
    processingGuarantee: config.app.processingGuarantee,
    commitIntervalMs: config.app.commitIntervalMs,
    sessionTimeoutMs: options.sessionTimeoutMs ?? 6_000,
    heartbeatIntervalMs: 500,
    rebalanceTimeoutMs: 20_000,
    logger: { info: log('info'), warn: log('warn'), error: log('error') },
  });

// The runner's topic set-up can meet UNKNOWN_TOPIC_OR_PARTITION right after creating a topic
// (see startWithRetries in ../metering-fixtures.ts); a fresh app, at most 3 times.
let app = create();
for (let attempt = 1; ; attempt++) {
  try {
    await app.start();
    break;
  } catch (error) {
    await app.close().catch(() => undefined);
    if ((error as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION' || attempt >= 3) throw error;
    log('warn')(`app start failed with ${(error as Error).message} (runner topic set-up race); retrying`);
    app = create();
  }
}

let lastTasks = '';
const report = setInterval(() => {
  const tasks = app.taskIds.join(',');
  if (app.ready && tasks !== lastTasks) {
    lastTasks = tasks;
    process.stdout.write(`ready\ntasks ${tasks}\n`);
  }
}, 100);
const counterReport = setInterval(() => process.stdout.write(`counters ${JSON.stringify(counters)}\n`), 1_000);

process.on('SIGTERM', () => {
  clearInterval(report);
  clearInterval(counterReport);
  void app.close().then(() => process.exit(0));
});
void app.failure.then((error) => {
  process.stdout.write(`failed ${error.message}\n`);
  process.exit(1);
});
