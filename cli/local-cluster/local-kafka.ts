/**
 * A real, single-node Apache Kafka broker (KRaft, combined broker+controller) run as a
 * plain child process on 127.0.0.1 — no Docker. Used by the integration tests
 * (test/kafka/global-setup.ts) and by `npm run kafka:start`.
 *
 * - Jars come from Maven Central via `mvn dependency:copy-dependencies` on
 *   cli/local-cluster/kafka/pom.xml and are cached in `<cache>/kafka-<version>/libs`
 *   (`<cache>` = $TALLY_CACHE_DIR or `<repo>/.cache`).
 * - Each broker gets a work dir (`logDir`): server.properties, the log4j config,
 *   broker.out (all console output) and data/ (the `log.dirs`).
 * - `stopBroker()` / `startBroker()` / `restart()` keep the ports and the data so tests
 *   can inject "broker down, broker back" faults; `stop()` ends it for good.
 *
 * See docs/kafka-broker.md.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { guardChild, type ChildGuard } from './process-guard.js';

/** The Kafka version used when neither the option nor $TALLY_KAFKA_VERSION says otherwise. */
export const DEFAULT_KAFKA_VERSION = '3.9.2';

export interface StartLocalKafkaOptions {
  /** Apache Kafka version (Maven version of org.apache.kafka:kafka_2.13). Default $TALLY_KAFKA_VERSION or DEFAULT_KAFKA_VERSION. */
  version?: string;
  /** Client (PLAINTEXT) port on 127.0.0.1. Default: a free port (or the one recorded in an existing logDir). */
  port?: number;
  /** KRaft controller listener port on 127.0.0.1. Default: a free port (or the recorded one). */
  controllerPort?: number;
  /**
   * Work dir of the broker (config, console log, data/). Default: a fresh temp dir, removed by stop().
   * If it already holds a formatted broker (from an earlier run), it is reused without formatting:
   * same cluster id, same data, same ports unless overridden.
   */
  logDir?: string;
  /** Remove logDir on stop(). Default: true for a temp dir, false for a logDir you passed. */
  removeLogDirOnStop?: boolean;
  /** JVM max heap in MiB. Default 512 (-Xms is min(256, heapMb)). */
  heapMb?: number;
  /** Extra / overriding server.properties entries (e.g. { 'auto.create.topics.enable': true }). */
  brokerConfig?: Record<string, string | number | boolean>;
  /** How long to wait for the broker to answer a kafkajs admin. Default 60 000 ms. */
  startTimeoutMs?: number;
  /** Broker log level (root logger). Default 'WARN' ($TALLY_KAFKA_LOG_LEVEL overrides the default). */
  brokerLogLevel?: 'ERROR' | 'WARN' | 'INFO' | 'DEBUG';
  /** Every line the broker process prints (stdout and stderr, log level brokerLogLevel and up). */
  onLog?: (line: string) => void;
  /** Progress messages (jar download, formatting, start). Default: written to stderr. */
  onProgress?: (message: string) => void;
  /** Cache dir for the jars. Default $TALLY_CACHE_DIR or `<repo>/.cache`. */
  cacheDir?: string;
}

export interface StopBrokerOptions {
  /** SIGTERM (default) = clean shutdown; SIGKILL = crash (log recovery on the next start). */
  signal?: 'SIGTERM' | 'SIGKILL';
  /** After this long without exit a SIGTERM is followed by SIGKILL. Default 30 000 ms. */
  timeoutMs?: number;
}

export interface LocalKafka {
  /** Bootstrap addresses, e.g. ['127.0.0.1:39092']. */
  readonly brokers: string[];
  readonly version: string;
  readonly port: number;
  readonly controllerPort: number;
  /** The broker work dir (server.properties, broker.out, data/). */
  readonly logDir: string;
  readonly clusterId: string;
  /** True while the broker process is alive. */
  readonly running: boolean;
  /** Pid of the current broker JVM, if running. */
  readonly pid: number | undefined;
  /** The last (up to 200) lines the broker printed. */
  recentOutput(): string[];
  /** Stops the broker process but keeps ports, config and data (fault injection). No-op if not running. */
  stopBroker(options?: StopBrokerOptions): Promise<void>;
  /** Starts the broker process again on the same ports and data; resolves when it answers. */
  startBroker(): Promise<void>;
  /** stopBroker(options) then startBroker(). */
  restart(options?: StopBrokerOptions): Promise<void>;
  /** Stops the broker for good and removes the temp logDir (see removeLogDirOnStop). Idempotent. */
  stop(): Promise<void>;
}

interface BrokerState {
  version: string;
  clusterId: string;
  port: number;
  controllerPort: number;
}

const STATE_FILE = 'tally-local-kafka.json';
const OUTPUT_LINES_KEPT = 200;
const JAR_MARKER = '.tally-complete';

// ---------------------------------------------------------------------------------------------
// Paths and jars
// ---------------------------------------------------------------------------------------------

/** The repo root: the nearest ancestor of this module holding cli/local-cluster/kafka/pom.xml (works from dist/ too). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'cli', 'local-cluster', 'kafka', 'pom.xml')) && existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('local-kafka: cannot find the repo root (cli/local-cluster/kafka/pom.xml) above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

export function defaultCacheDir(): string {
  const env = process.env['TALLY_CACHE_DIR'];
  return env !== undefined && env !== '' ? resolve(env) : join(repoRoot(), '.cache');
}

export function resolveKafkaVersion(version?: string): string {
  const v = version ?? process.env['TALLY_KAFKA_VERSION'] ?? DEFAULT_KAFKA_VERSION;
  if (!/^\d+\.\d+\.\d+([.-][A-Za-z0-9.-]+)?$/.test(v)) throw new Error(`local-kafka: bad Kafka version ${JSON.stringify(v)}`);
  return v;
}

function kafkaMajor(version: string): number {
  return Number.parseInt(version.split('.')[0] ?? '0', 10);
}

function defaultProgress(message: string): void {
  process.stderr.write(`[local-kafka] ${message}\n`);
}

/**
 * Makes sure `<cache>/kafka-<version>/libs` holds the broker jars, fetching them with Maven if
 * missing or incomplete (no completion marker). Returns the libs dir.
 */
export function ensureKafkaJars(options: { version?: string; cacheDir?: string; onProgress?: (message: string) => void } = {}): string {
  const version = resolveKafkaVersion(options.version);
  const progress = options.onProgress ?? defaultProgress;
  const base = join(options.cacheDir ?? defaultCacheDir(), `kafka-${version}`);
  const libs = join(base, 'libs');
  if (existsSync(join(libs, JAR_MARKER))) return libs;

  const pom = join(repoRoot(), 'cli', 'local-cluster', 'kafka', 'pom.xml');
  const partial = join(base, `libs.partial-${process.pid}`);
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(base, { recursive: true });
  const mvn = process.env['TALLY_MVN'] ?? 'mvn';
  const args = ['-q', '-B', '-f', pom, 'dependency:copy-dependencies', `-Dkafka.version=${version}`, `-DoutputDirectory=${partial}`];
  if (kafkaMajor(version) >= 4) args.push('-Dkafka.logging=log4j2');
  progress(`fetching Apache Kafka ${version} jars from Maven Central (first run only): ${mvn} ${args.join(' ')}`);
  const t0 = Date.now();
  const r = spawnSync(mvn, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  if (r.error !== undefined || r.status !== 0) {
    rmSync(partial, { recursive: true, force: true });
    const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.trim().split('\n').slice(-50).join('\n');
    throw new Error(
      `local-kafka: fetching Kafka ${version} jars with Maven failed (${r.error?.message ?? `exit ${String(r.status)}`}).\n` +
        `Is '${mvn}' installed and Maven Central reachable? Output:\n${out}`,
    );
  }
  const jars = readdirSync(partial).filter((f) => f.endsWith('.jar'));
  if (!jars.some((f) => f.startsWith(`kafka_2.13-${version}`))) {
    rmSync(partial, { recursive: true, force: true });
    throw new Error(`local-kafka: Maven finished but ${partial} holds no kafka_2.13-${version}.jar`);
  }
  writeFileSync(join(partial, JAR_MARKER), `${version}\n${jars.length} jars\n${new Date().toISOString()}\n`);
  rmSync(libs, { recursive: true, force: true });
  try {
    renameSync(partial, libs);
  } catch (e) {
    // Another process may have won the race; accept its result if complete.
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(join(libs, JAR_MARKER))) throw e;
  }
  progress(`fetched ${jars.length} jars in ${((Date.now() - t0) / 1000).toFixed(1)} s into ${libs}`);
  return libs;
}

// ---------------------------------------------------------------------------------------------
// Ports, ids, config
// ---------------------------------------------------------------------------------------------

/** A currently free TCP port on 127.0.0.1 (not reserved: there is a small race window). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('local-kafka: could not get a free port'));
        return;
      }
      srv.close(() => resolvePort(addr.port));
    });
  });
}

/** A Kafka cluster id: 16 random bytes, URL-safe base64 without padding, not starting with '-'. */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function serverProperties(state: BrokerState, dataDir: string, extra: Record<string, string | number | boolean>): string {
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${state.controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${state.port},CONTROLLER://127.0.0.1:${state.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${state.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': dataDir,
    // Single node: every replicated internal topic has one replica.
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 10,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 10,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    'num.partitions': 1,
    // Topics are created explicitly (like Kafka Streams' internal topics); a typo fails loudly.
    'auto.create.topics.enable': false,
    'group.initial.rebalance.delay.ms': 0,
    // After a crash (SIGKILL) the restarted broker cannot re-register until the controller has
    // expired its old session: 9 s by default, ~4 s with this.
    'broker.session.timeout.ms': 4000,
    'broker.heartbeat.interval.ms': 1000,
    // Keep it light on a shared 2-core machine.
    'num.network.threads': 2,
    'num.io.threads': 4,
    'num.recovery.threads.per.data.dir': 1,
    'background.threads': 4,
    'log.cleaner.threads': 1,
    'log.cleaner.dedupe.buffer.size': 16 * 1024 * 1024,
  };
  if (kafkaMajor(state.version) >= 4) {
    props['share.coordinator.state.topic.replication.factor'] = 1;
    props['share.coordinator.state.topic.min.isr'] = 1;
  }
  Object.assign(props, extra);
  const lines = [`# written by cli/local-cluster/local-kafka.ts (Kafka ${state.version}, cluster ${state.clusterId})`];
  for (const [k, v] of Object.entries(props)) lines.push(`${k}=${String(v)}`);
  return lines.join('\n') + '\n';
}

/** `level` and up to stdout (piped to broker.out and onLog). */
function writeLoggingConfig(logDir: string, version: string, level: string): { file: string; jvmFlag: string } {
  if (kafkaMajor(version) >= 4) {
    const file = join(logDir, 'log4j2.properties');
    writeFileSync(
      file,
      [
        'status = warn',
        'appender.stdout.type = Console',
        'appender.stdout.name = STDOUT',
        'appender.stdout.layout.type = PatternLayout',
        'appender.stdout.layout.pattern = [%d] %p %m (%c)%n',
        `rootLogger.level = ${level}`,
        'rootLogger.appenderRef.stdout.ref = STDOUT',
        '',
      ].join('\n'),
    );
    return { file, jvmFlag: `-Dlog4j2.configurationFile=${file}` };
  }
  const file = join(logDir, 'log4j.properties');
  writeFileSync(
    file,
    [
      `log4j.rootLogger=${level}, stdout`,
      'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
      'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
      '',
    ].join('\n'),
  );
  return { file, jvmFlag: `-Dlog4j.configuration=file:${file}` };
}

function javaBin(): string {
  const home = process.env['JAVA_HOME'];
  return home !== undefined && home !== '' ? join(home, 'bin', 'java') : 'java';
}

// ---------------------------------------------------------------------------------------------
// Child-process bookkeeping: never leave a broker behind
// ---------------------------------------------------------------------------------------------

interface LiveBroker {
  readonly child: ChildProcess;
  /** Kills the broker if this process goes away; a temp broker's log dir goes with it. */
  guard: ChildGuard | undefined;
}

// ---------------------------------------------------------------------------------------------
// Readiness
// ---------------------------------------------------------------------------------------------

async function probeOnce(brokers: string[], clusterId: string): Promise<void> {
  const kafka = new Kafka({
    clientId: 'tally-local-kafka-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    await admin.listTopics();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) throw new Error('no brokers registered yet');
    // Guards against a port clash: some other broker answering on "our" port.
    if (cluster.clusterId !== clusterId) throw new Error(`cluster ${cluster.clusterId} answers, not ours (${clusterId})`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// startLocalKafka
// ---------------------------------------------------------------------------------------------

function readState(logDir: string): BrokerState | undefined {
  const f = join(logDir, STATE_FILE);
  if (!existsSync(f)) return undefined;
  return JSON.parse(readFileSync(f, 'utf8')) as BrokerState;
}

export async function startLocalKafka(options: StartLocalKafkaOptions = {}): Promise<LocalKafka> {
  const progress = options.onProgress ?? defaultProgress;
  const heapMb = options.heapMb ?? 512;
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;

  let logDir: string;
  let ownsLogDir: boolean;
  if (options.logDir !== undefined) {
    logDir = resolve(options.logDir);
    mkdirSync(logDir, { recursive: true });
    ownsLogDir = false;
  } else {
    logDir = await mkdtemp(join(tmpdir(), 'tally-kafka-'));
    ownsLogDir = true;
  }
  const removeLogDirOnStop = options.removeLogDirOnStop ?? ownsLogDir;
  const dataDir = join(logDir, 'data');
  const propsFile = join(logDir, 'server.properties');

  const previous = readState(logDir);
  const formatted = previous !== undefined && existsSync(join(dataDir, 'meta.properties'));
  const version = resolveKafkaVersion(options.version ?? previous?.version);
  if (formatted && previous.version !== version) {
    progress(`note: ${logDir} was formatted by Kafka ${previous.version}, now starting ${version}`);
  }

  let libs: string;
  try {
    libs = ensureKafkaJars({ version, ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}), onProgress: progress });
  } catch (e) {
    if (ownsLogDir) rmSync(logDir, { recursive: true, force: true });
    throw e;
  }

  const state: BrokerState = {
    version,
    clusterId: formatted ? previous.clusterId : newClusterId(),
    port: options.port ?? (formatted ? previous.port : await freePort()),
    controllerPort: options.controllerPort ?? (formatted ? previous.controllerPort : 0),
  };
  while (state.controllerPort === 0 || state.controllerPort === state.port) state.controllerPort = await freePort();
  // Free ports are not reserved: if we picked them and another process grabs one first, retry.
  const portsAutoPicked = !formatted && options.port === undefined && options.controllerPort === undefined;

  const envLevel = (process.env['TALLY_KAFKA_LOG_LEVEL'] ?? '').toUpperCase();
  const level = options.brokerLogLevel ?? (['ERROR', 'WARN', 'INFO', 'DEBUG'].includes(envLevel) ? envLevel : 'WARN');
  const logging = writeLoggingConfig(logDir, version, level);
  const writeConfig = (): void => {
    writeFileSync(propsFile, serverProperties(state, dataDir, options.brokerConfig ?? {}));
    writeFileSync(join(logDir, STATE_FILE), JSON.stringify(state, null, 2) + '\n');
  };
  writeConfig();
  const classpath = join(libs, '*');
  const jvmBase = [`-Xmx${heapMb}m`, `-Xms${Math.min(256, heapMb)}m`, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true', logging.jvmFlag, `-Dkafka.logs.dir=${logDir}`];

  if (!formatted) {
    const r = spawnSync(javaBin(), [...jvmBase.filter((f) => !f.startsWith('-Xm')), '-Xmx256m', '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', state.clusterId, '-c', propsFile], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (r.error !== undefined || r.status !== 0) {
      if (ownsLogDir) rmSync(logDir, { recursive: true, force: true });
      throw new Error(`local-kafka: formatting the KRaft storage failed (${r.error?.message ?? `exit ${String(r.status)}`}):\n${r.stdout}\n${r.stderr}`);
    }
  }

  const brokers = [`127.0.0.1:${state.port}`];
  const output: string[] = [];
  let outFile: WriteStream | undefined;
  let current: LiveBroker | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stopped = false;

  const pushLine = (line: string): void => {
    output.push(line);
    if (output.length > OUTPUT_LINES_KEPT) output.shift();
    outFile?.write(line + '\n');
    options.onLog?.(line);
  };

  const launch = async (): Promise<void> => {
    if (stopped) throw new Error('local-kafka: broker was stopped for good');
    if (current !== undefined) throw new Error('local-kafka: broker already running');
    outFile ??= createWriteStream(join(logDir, 'broker.out'), { flags: 'a' });
    const t0 = Date.now();
    const child = spawn(javaBin(), [...jvmBase, '-cp', classpath, 'kafka.Kafka', propsFile], {
      cwd: logDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const entry: LiveBroker = { child, guard: undefined };
    let spawnError: Error | undefined;
    let exitInfo: string | undefined;
    exited = new Promise<void>((res) => {
      child.on('error', (e) => {
        spawnError = e;
        exitInfo = `spawn error: ${e.message}`;
        res();
      });
      // 'close' (not 'exit'): fires once stdout/stderr are drained, so the last output is complete.
      child.on('close', (code, signal) => {
        exitInfo = signal !== null ? `signal ${signal}` : `exit code ${String(code)}`;
        res();
      });
    });
    void exited.then(() => {
      entry.guard?.release();
      if (current === entry) current = undefined;
    });
    for (const stream of [child.stdout, child.stderr]) {
      let buf = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          pushLine(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
      });
      stream?.on('end', () => {
        if (buf !== '') pushLine(buf);
        buf = '';
      });
    }
    current = entry;
    // A temp broker's data is worthless: kill hard and clean up. A kept logDir gets a clean shutdown.
    entry.guard = guardChild(child, {
      name: 'tally-kafka',
      tempDir: removeLogDirOnStop ? logDir : undefined,
      exitSignal: removeLogDirOnStop ? 'SIGKILL' : 'SIGTERM',
    });

    const deadline = Date.now() + startTimeoutMs;
    let lastErr = '';
    for (;;) {
      if (exitInfo !== undefined || spawnError !== undefined) {
        throw new Error(`local-kafka: Kafka ${version} broker exited during start (${exitInfo ?? ''}). Last output:\n${output.slice(-50).join('\n')}`);
      }
      try {
        await probeOnce(brokers, state.clusterId);
        break;
      } catch (e) {
        lastErr = e instanceof Error ? e.message : String(e);
      }
      if (Date.now() > deadline) {
        await stopProcess({ signal: 'SIGKILL' });
        throw new Error(
          `local-kafka: Kafka ${version} broker on ${brokers[0] ?? ''} did not answer within ${startTimeoutMs} ms (last probe error: ${lastErr}). ` +
            `Last output (full log: ${join(logDir, 'broker.out')}):\n${output.slice(-50).join('\n')}`,
        );
      }
      await sleep(250);
    }
    progress(`Kafka ${version} up on ${brokers.join(',')} in ${((Date.now() - t0) / 1000).toFixed(1)} s (pid ${String(child.pid)}, dir ${logDir})`);
  };

  const stopProcess = async (opts: StopBrokerOptions = {}): Promise<void> => {
    const entry = current;
    if (entry === undefined) return;
    const { child } = entry;
    const signal = opts.signal ?? 'SIGTERM';
    const timeoutMs = opts.timeoutMs ?? 30_000;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(true), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        progress(`broker pid ${String(child.pid)} still alive ${timeoutMs} ms after ${signal}; sending SIGKILL`);
        child.kill('SIGKILL');
        await exited;
      }
    }
    await exited;
    entry.guard?.release();
    if (current === entry) current = undefined;
  };

  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (e) {
      await stopProcess({ signal: 'SIGKILL' }).catch(() => undefined);
      if (portsAutoPicked && attempt < 3 && output.some((l) => l.includes('Address already in use'))) {
        progress(`port clash on ${brokers[0] ?? ''} / controller ${state.controllerPort}; retrying with new ports`);
        state.port = await freePort();
        do state.controllerPort = await freePort();
        while (state.controllerPort === state.port);
        brokers[0] = `127.0.0.1:${state.port}`;
        writeConfig();
        output.length = 0;
        continue;
      }
      outFile?.end();
      if (ownsLogDir) rmSync(logDir, { recursive: true, force: true });
      throw e;
    }
  }

  const handle: LocalKafka = {
    brokers,
    version,
    port: state.port,
    controllerPort: state.controllerPort,
    logDir,
    clusterId: state.clusterId,
    get running() {
      return current !== undefined;
    },
    get pid() {
      return current?.child.pid;
    },
    recentOutput: () => [...output],
    stopBroker: (opts) => stopProcess(opts),
    startBroker: () => launch(),
    restart: async (opts) => {
      await stopProcess(opts);
      await launch();
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await stopProcess();
      await new Promise<void>((r) => {
        if (outFile === undefined) r();
        else outFile.end(() => r());
      });
      if (removeLogDirOnStop) rmSync(logDir, { recursive: true, force: true });
    },
  };
  return handle;
}
