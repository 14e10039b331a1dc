/**
 * `tally run`: the service — the pipeline on Kafka and the HTTP API — until
 * SIGTERM or SIGINT, which commit and close cleanly (exit 0). A pipeline
 * failure closes what it can and exits 1 with the reason. Either way the
 * process ends within `app.shutdownTimeout`: what has not closed by then is
 * logged and left behind (exit 1); a second signal exits 1 at once. Status
 * lines (restoration progress, "ready at …") go to stdout, the log to stderr.
 */
import { loadConfig, parseDurationMs, serviceLimitDefaults } from '../../schemas/index.js';
import { restorationLeft, startMemoryLog, startService, type TallyService } from '../../service/index.js';
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
If the pipeline fails, it closes what it can and exits 1. Shutting down takes
at most app.shutdownTimeout (default 30 s): past it, the process logs what did
not close and exits 1. A second SIGTERM or SIGINT exits 1 at once.

Options:
  --config FILE          tally.yaml
  --port N               HTTP port (default http.port; 0 = any free port)
  --host HOST            HTTP address (default http.host)
  --advertise HOST:PORT  where other instances reach this one for queries they route here
                         (default: the HTTP address, or this machine's name when it listens on 0.0.0.0)
  --help                 show this help

Exit status: 0 after a clean stop, 1 on a bad config, a pipeline failure or a
shutdown that did not finish in time, 2 on bad options.`;

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
/** Kept from the shutdown timeout for logging and exiting after the service has closed. */
const exitReserveMs = 500;

/** Runs the service until a signal (0) or a failure (1); a shutdown that runs out of time is 1 too. */
export async function runService(args: RunArgs, io: RunIo): Promise<number> {
  let service: TallyService;
  let shutdownTimeoutMs: number;
  try {
    const config = await loadConfig(args.configPath);
    shutdownTimeoutMs = config.app.shutdownTimeoutMs ?? parseDurationMs(serviceLimitDefaults.shutdownTimeout);
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
  const stopMemoryLog = memoryLog(io.logger);
  const signals = watchSignals(io.logger);
  const outcome = await Promise.race([signals.first, service.failure]);
  stopStatus();
  stopMemoryLog();

  // 1. From here the process ends within the shutdown timeout, whatever hangs.
  const backstop = setTimeout(() => {
    io.logger.error(`tally run: still shutting down after ${shutdownTimeoutMs} ms (app.shutdownTimeout); exiting 1 without waiting any longer`);
    process.exit(1);
  }, shutdownTimeoutMs);
  // 2. Close what is open: HTTP server, pipeline (final commit, checkpoints, leave the group), Kafka clients.
  if (outcome instanceof Error) io.logger.error(`tally run: the pipeline failed: ${outcome.message}; closing what is open (at most ${shutdownTimeoutMs} ms)`);
  else io.logger.info(`tally run: ${outcome}: committing, writing checkpoints and leaving the group (at most ${shutdownTimeoutMs} ms)`);
  const report = await service.shutDown(Math.max(0, shutdownTimeoutMs - exitReserveMs));
  clearTimeout(backstop);
  signals.stop();
  // 3. The exit status says whether the stop was clean.
  if (outcome instanceof Error) return 1;
  if (!report.clean) {
    io.logger.error(`tally run: shutdown did not finish within ${shutdownTimeoutMs} ms; exiting 1`);
    return 1;
  }
  io.status.write('stopped cleanly\n');
  return 0;
}

/** The first SIGTERM or SIGINT; a second one while shutting down exits 1 at once. */
function watchSignals(logger: AppLogger): { first: Promise<NodeJS.Signals>; stop(): void } {
  let received: NodeJS.Signals | undefined;
  let resolveFirst!: (signal: NodeJS.Signals) => void;
  const first = new Promise<NodeJS.Signals>((resolve) => (resolveFirst = resolve));
  const onSignal = (signal: NodeJS.Signals): void => {
    if (received === undefined) {
      received = signal;
      resolveFirst(signal);
      return;
    }
    logger.error(`tally run: ${signal} while shutting down (after ${received}): exiting 1 now, without waiting for the rest to close`);
    process.exit(1);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    first,
    stop() {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}

/**
 * Ends the process with `code`. A failed or unclean stop exits at once (what
 * is left open may never close); after a clean one the process normally ends
 * by itself, and anything still holding it after a moment is named and cut.
 */
function endProcess(code: number, logger: AppLogger): void {
  process.exitCode = code;
  if (code !== 0) process.exit(code);
  setTimeout(() => {
    logger.warn(`tally run: still open after a clean shutdown: ${process.getActiveResourcesInfo().join(', ')}; exiting`);
    process.exit(code);
  }, lingerMs).unref();
}

/** How long a cleanly stopped process may take to end by itself. */
const lingerMs = 1_000;

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

/** TALLY_MEMORY_LOG_MS=N logs a memory report every N ms (a diagnostic; see docs/performance.md). */
function memoryLog(logger: AppLogger): () => void {
  const intervalMs = Number(process.env['TALLY_MEMORY_LOG_MS'] ?? '');
  return Number.isInteger(intervalMs) && intervalMs > 0 ? startMemoryLog(logger, intervalMs) : () => undefined;
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
  run: async (parsed) => {
    const code = await runService(parsed, { status: process.stdout, logger: stderrLogger });
    endProcess(code, stderrLogger);
    return code;
  },
});
