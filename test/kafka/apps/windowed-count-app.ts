/**
 * A stateful windowed aggregation as a standalone process, for crash,
 * rebalance and fencing tests: counts events per user in 10-second windows.
 * Input values are `user:sequence`; the record timestamp is the event time.
 *
 *   tsx windowed-count-app.ts '{"brokers":[...],"appId":"...","input":"...","output":"...","stateDir":"..."}'
 *
 * Prints `ready` once its tasks run, `tasks <ids>` on every change, and logs;
 * SIGTERM closes it cleanly.
 */
import { jsonSerde, stringSerde } from '../../../schemas/index.js';
import { StreamsBuilder, TimeWindows, windowedKeySerde } from '../../../topology/index.js';
import { createApp, type ProcessingGuarantee } from '../../../topology/kafka/index.js';

interface Options {
  readonly brokers: string[];
  readonly appId: string;
  readonly input: string;
  readonly output: string;
  readonly stateDir: string;
  readonly guarantee?: ProcessingGuarantee;
  readonly sessionTimeoutMs?: number;
  readonly commitIntervalMs?: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as Options;
const builder = new StreamsBuilder();
builder
  .stream(options.input, { valueSerde: stringSerde })
  .selectKey((_k, v) => v.split(':')[0] as string)
  .groupByKey()
  .windowedBy(TimeWindows.ofSize(10_000).grace(24 * 60 * 60 * 1000))
  .count({ name: 'user-windows', lateTopic: `${options.output}-late` })
  .toStream()
  .to(options.output, { keySerde: windowedKeySerde, valueSerde: jsonSerde<number>() });

const log = (level: string) => (message: string) => process.stdout.write(`${level} ${message}\n`);
const app = createApp(builder.build(), {
  applicationId: options.appId,
  brokers: options.brokers,
  stateDir: options.stateDir,
  processingGuarantee: options.guarantee ?? 'exactly_once',
  commitIntervalMs: options.commitIntervalMs ?? 100,
  sessionTimeoutMs: options.sessionTimeoutMs ?? 6_000,
  heartbeatIntervalMs: 500,
  rebalanceTimeoutMs: 20_000,
  logger: { info: log('info'), warn: log('warn'), error: log('error') },
});

let lastTasks = '';
const report = setInterval(() => {
  const tasks = app.taskIds.join(',');
  if (app.ready && tasks !== lastTasks) {
    lastTasks = tasks;
    process.stdout.write(`ready\ntasks ${tasks}\n`);
  }
}, 100);

process.on('SIGTERM', () => {
  clearInterval(report);
  void app.close().then(() => process.exit(0));
});
void app.failure.then((error) => {
  process.stdout.write(`failed ${error.message}\n`);
  process.exit(1);
});
await app.start();
