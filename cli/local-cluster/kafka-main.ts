/**
 * Runs a local single-node Kafka broker in the foreground until Ctrl-C.
 *
 *   npm run kafka:start                       # temp dir, free port, removed on exit
 *   npm run kafka:start -- --port 9092 --dir .tally/kafka   # fixed port, data kept across runs
 *   node dist/cli/local-cluster/kafka-main.js fetch [--version 4.1.2]   # only download the jars
 *
 * Options: --version V (or $TALLY_KAFKA_VERSION), --port N, --controller-port N, --dir PATH,
 * --heap-mb N, --quiet (do not echo broker output). See docs/kafka-broker.md.
 */
import { ensureKafkaJars, startLocalKafka, type StartLocalKafkaOptions } from './local-kafka.js';

function usage(): never {
  process.stderr.write(
    'usage: kafka-main.js start [--version V] [--port N] [--controller-port N] [--dir PATH] [--heap-mb N] [--quiet]\n' +
      '       kafka-main.js fetch [--version V]\n',
  );
  process.exit(2);
}

function parse(argv: string[]): { command: string; opts: StartLocalKafkaOptions; quiet: boolean } {
  const command = argv[0] ?? 'start';
  const opts: StartLocalKafkaOptions = {};
  let quiet = false;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) usage();
      return v;
    };
    const int = (): number => {
      const n = Number.parseInt(value(), 10);
      if (!Number.isFinite(n) || n <= 0) usage();
      return n;
    };
    switch (arg) {
      case '--version':
        opts.version = value();
        break;
      case '--port':
        opts.port = int();
        break;
      case '--controller-port':
        opts.controllerPort = int();
        break;
      case '--dir':
        opts.logDir = value();
        break;
      case '--heap-mb':
        opts.heapMb = int();
        break;
      case '--quiet':
        quiet = true;
        break;
      default:
        usage();
    }
  }
  return { command, opts, quiet };
}

async function main(): Promise<void> {
  const { command, opts, quiet } = parse(process.argv.slice(2));
  if (command === 'fetch') {
    const libs = ensureKafkaJars(opts.version !== undefined ? { version: opts.version } : {});
    process.stdout.write(`${libs}\n`);
    return;
  }
  if (command !== 'start') usage();

  if (!quiet) opts.onLog = (line) => process.stderr.write(`[kafka] ${line}\n`);
  const kafka = await startLocalKafka(opts);
  process.stdout.write(
    `Kafka ${kafka.version} running (pid ${String(kafka.pid)})\n` +
      `bootstrap: ${kafka.brokers.join(',')}\n` +
      `dir: ${kafka.logDir}\n` +
      'Ctrl-C to stop.\n',
  );

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n${signal}: stopping Kafka...\n`);
    kafka.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`stop failed: ${String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => shutdown('SIGHUP'));
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
