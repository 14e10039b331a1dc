/**
 * `tally run`: the service — the pipeline on Kafka and the HTTP API — until
 * SIGTERM or SIGINT, which commit and close cleanly (exit 0). A pipeline
 * failure exits 1 with the reason. Status lines (restoration progress,
 * "ready at …") go to stdout, the log to stderr.
 */
import { loadConfig } from '../../schemas/index.js';
import { restorationLeft, startService, type TallyService } from '../../service/index.js';
import type { AppLogger } from '../../topology/kafka/index.js';
import { parseOptions, requiredOption, UsageError } from './cli-args.js';
import { commandWithUsage } from './command-with-usage.js';
import { createProgressLine, type ProgressTarget } from './progress-line.js';

export const runHelp = `Usage: tally run --config FILE [--port N] [--host HOST] [--advertise HOST:PORT]

Runs the Tally service: the metering and rating pipeline on Kafka, and the
HTTP API (POST /v1/events, GET /v1/meters/{slug}/query,
GET /v1/customers/{id}/billing, /healthz, /readyz, /metrics). The topics must
exist with matching settings (create them with \`tally topics\`). Config
customers missing from the customers topic are written to it first.

While tasks restore their state, a progress line shows what is left; then
"ready at http://…". SIGTERM or SIGINT commits, writes checkpoints and exits 0.

Options:
  --config FILE          tally.yaml
  --port N               HTTP port (default http.port; 0 = any free port)
  --host HOST            HTTP address (default http.host)
  --advertise HOST:PORT  where other instances reach this one for queries they route here
                         (default: the HTTP address, or this machine's name when it listens on 0.0.0.0)
  --help                 show this help

Exit status: 0 after a clean stop, 1 on a bad config or a pipeline failure, 2 on bad options.`;

export interface RunArgs {
  readonly configPath: string;
  readonly port: number | undefined;
  readonly host: string | undefined;
  readonly advertise: string | undefined;
}

export function parseRunArgs(args: readonly string[]): RunArgs {
  const { values } = parseOptions(args, { values: ['--config', '--port', '--host', '--advertise'] as const });
  const port = values.get('--port');
  if (port !== undefined && !(/^\d+$/.test(port) && Number(port) <= 65_535)) throw new UsageError(`--port ${JSON.stringify(port)} must be a port number from 0 to 65535`);
  const advertise = values.get('--advertise');
  if (advertise !== undefined && !/^[^\s/]+:\d+$/.test(advertise)) throw new UsageError(`--advertise ${JSON.stringify(advertise)} must be HOST:PORT, e.g. tally-0.tally:8080`);
  return { configPath: requiredOption(values, '--config', 'the tally.yaml to run'), port: port === undefined ? undefined : Number(port), host: values.get('--host'), advertise };
}

export interface RunIo {
  /** Status lines (progress, ready). */
  readonly status: ProgressTarget;
  readonly logger: AppLogger;
}

const statusIntervalMs = 500;

/** Runs the service until a signal (0) or a failure (1). */
export async function runService(args: RunArgs, io: RunIo): Promise<number> {
  let service: TallyService;
  try {
    const config = await loadConfig(args.configPath);
    service = await startService(config, {
      logger: io.logger,
      ...(args.port === undefined ? {} : { httpPort: args.port }),
      ...(args.host === undefined ? {} : { httpHost: args.host }),
      ...(args.advertise === undefined ? {} : { advertisedServer: args.advertise }),
    });
  } catch (error) {
    io.logger.error(`tally run: ${(error as Error).message}`);
    return 1;
  }
  const stopStatus = reportStatus(service, io.status);
  const outcome = await new Promise<NodeJS.Signals | Error>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    void service.failure.then(resolve);
  });
  stopStatus();
  if (outcome instanceof Error) {
    io.logger.error(`tally run: the pipeline failed: ${outcome.message}`);
    await service.close();
    return 1;
  }
  io.logger.info(`tally run: ${outcome}: committing, writing checkpoints and leaving the group`);
  await service.close();
  io.status.write('stopped cleanly\n');
  return 0;
}

/** Prints restoration progress while the app is not ready, and "ready at …" each time it becomes ready. */
function reportStatus(service: TallyService, target: ProgressTarget): () => void {
  const progress = createProgressLine(target, { plainIntervalMs: 1_000 });
  let wasReady = false;
  const timer = setInterval(() => {
    const { app } = service;
    if (app.ready !== wasReady) {
      wasReady = app.ready;
      if (wasReady) progress.done(`ready at ${service.url}`);
    }
    if (wasReady) return;
    const left = restorationLeft(app);
    progress.update(left.tasks === 0 ? 'waiting for the consumer group to assign tasks' : `restoring: ${left.records.toLocaleString('en-US')} records left in ${left.tasks} task${left.tasks === 1 ? '' : 's'}`);
  }, statusIntervalMs);
  return () => clearInterval(timer);
}

const stderrLogger: AppLogger = {
  info: (m) => process.stderr.write(`info ${m}\n`),
  warn: (m) => process.stderr.write(`warn ${m}\n`),
  error: (m) => process.stderr.write(`error ${m}\n`),
};

export const runCommand = commandWithUsage({
  name: 'run',
  summary: 'run the service: the pipeline on Kafka and the HTTP API',
  help: runHelp,
  parse: parseRunArgs,
  run: (parsed) => runService(parsed, { status: process.stdout, logger: stderrLogger }),
});
