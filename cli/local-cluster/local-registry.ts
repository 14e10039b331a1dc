/**
 * A real Apicurio Registry (Confluent-compatible API at `/apis/ccompat/v7`) run as a plain
 * `java` child process on 127.0.0.1 — no Docker (docs/kafka-broker.md). Used by the Avro integration
 * tests (started in a test file's beforeAll, not in the global setup) and by hand.
 *
 * - The distribution comes from Maven Central (`io.apicurio:apicurio-registry-app`, tar.gz,
 *   classifier `all`) and is unpacked into `<cache>/apicurio-registry-<version>/app`
 *   (see registry/fetch-registry.ts; `<cache>` = $TALLY_CACHE_DIR or `<repo>/.cache`).
 * - Storage is in memory (H2 `mem:`): every start is an empty registry, and `stop()` forgets
 *   every schema.
 * - Ready when `GET <url>/subjects` answers 200 with a JSON array.
 * - The JVM is killed if this process exits or dies (process-guard.ts).
 *
 * See docs/avro.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from './local-kafka.js';
import { guardChild } from './process-guard.js';
import { ensureRegistryDistribution, DEFAULT_REGISTRY_VERSION } from './registry/fetch-registry.js';

export { DEFAULT_REGISTRY_VERSION, ensureRegistryDistribution, resolveRegistryVersion } from './registry/fetch-registry.js';

export interface StartLocalRegistryOptions {
  /** Apicurio Registry version (3.x). Default $TALLY_REGISTRY_VERSION or DEFAULT_REGISTRY_VERSION. */
  version?: string;
  /** HTTP port on 127.0.0.1. Default: a free port (a clash with another process is retried on new ports). */
  port?: number;
  /** JVM max heap, MiB. Default 256. */
  heapMb?: number;
  /** How long to wait for the API to answer. Default 90 000 ms. */
  startTimeoutMs?: number;
  /** Registry log level (Quarkus). Default WARN ($TALLY_REGISTRY_LOG_LEVEL overrides the default). */
  logLevel?: 'ERROR' | 'WARN' | 'INFO' | 'DEBUG';
  /** Every line the registry prints. */
  onLog?: (line: string) => void;
  /** Progress messages (download, start). Default: stderr. */
  onProgress?: (message: string) => void;
  /** Cache dir for the distribution. Default $TALLY_CACHE_DIR or `<repo>/.cache`. */
  cacheDir?: string;
}

export interface LocalRegistry {
  /** The Confluent-compatible API, e.g. `http://127.0.0.1:41234/apis/ccompat/v7` (what `schemaRegistry.url` takes). */
  readonly url: string;
  readonly port: number;
  readonly version: string;
  /** Work dir: `registry.out` (all output). Removed by stop(). */
  readonly workDir: string;
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Download + unpack time (0 when cached) and JVM start-to-ready time, ms. */
  readonly timings: { readonly fetchMs: number; readonly startMs: number };
  /** The last (up to 200) lines the registry printed. */
  recentOutput(): string[];
  /** SIGTERM (SIGKILL after `timeoutMs`, default 15 s), then removes the work dir. Idempotent. */
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

const OUTPUT_LINES_KEPT = 200;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function javaBin(): string {
  const home = process.env['JAVA_HOME'];
  return home !== undefined && home !== '' ? join(home, 'bin', 'java') : 'java';
}

function jvmArgs(jar: string, port: number, heapMb: number, level: string, workDir: string): string[] {
  return [
    `-Xmx${heapMb}m`,
    `-Xms${Math.min(64, heapMb)}m`,
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1', // start-up time over peak throughput: a test registry serves a few hundred requests
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    '-Dquarkus.http.host=127.0.0.1',
    `-Dquarkus.http.port=${port}`,
    '-Dquarkus.banner.enabled=false',
    '-Dquarkus.http.access-log.enabled=false',
    `-Dquarkus.log.level=${level}`,
    `-Dquarkus.log.category."io.apicurio".level=${level}`,
    // In-memory storage, explicitly (also Apicurio's default), with a small connection pool.
    '-Dapicurio.storage.kind=sql',
    '-Dapicurio.storage.sql.kind=h2',
    '-Dapicurio.datasource.url=jdbc:h2:mem:tally',
    '-Dapicurio.datasource.jdbc.initial-size=2',
    '-Dapicurio.datasource.jdbc.min-size=2',
    '-Dapicurio.datasource.jdbc.max-size=10',
    `-Dapicurio.import.work-dir=${workDir}`,
    `-Dapicurio.storage.snapshot.location=${workDir}`,
    '-jar',
    jar,
  ];
}

/** True once `GET <url>/subjects` answers 200 with a JSON array. */
async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2_000) });
    return response.status === 200 && Array.isArray(await response.json());
  } catch {
    return false;
  }
}

function hint(output: readonly string[], version: string): string {
  if (output.some((l) => l.includes('UnsupportedClassVersionError'))) {
    return `\nApicurio Registry ${version} needs a newer Java than ${javaBin()} (3.1+ needs Java 21); use ${DEFAULT_REGISTRY_VERSION} on JDK 17 or set JAVA_HOME.`;
  }
  return '';
}

/**
 * Starts an Apicurio Registry on 127.0.0.1 and resolves when its Confluent-compatible API
 * answers. Throws, with the registry's last output lines, if it exits or does not answer
 * within `startTimeoutMs`.
 */
export async function startLocalRegistry(options: StartLocalRegistryOptions = {}): Promise<LocalRegistry> {
  const progress = options.onProgress ?? ((m: string) => process.stderr.write(`[local-registry] ${m}\n`));
  const heapMb = options.heapMb ?? 256;
  const startTimeoutMs = options.startTimeoutMs ?? 90_000;
  const envLevel = (process.env['TALLY_REGISTRY_LOG_LEVEL'] ?? '').toUpperCase();
  const level = options.logLevel ?? (['ERROR', 'WARN', 'INFO', 'DEBUG'].includes(envLevel) ? envLevel : 'WARN');
  const dist = ensureRegistryDistribution({ ...(options.version === undefined ? {} : { version: options.version }), ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }), onProgress: progress });

  const workDir = await mkdtemp(join(tmpdir(), 'tally-registry-'));
  const outFile: WriteStream = createWriteStream(join(workDir, 'registry.out'), { flags: 'a' });
  const output: string[] = [];
  const pushLine = (line: string): void => {
    output.push(line);
    if (output.length > OUTPUT_LINES_KEPT) output.shift();
    outFile.write(line + '\n');
    options.onLog?.(line);
  };

  let child: ChildProcess | undefined;
  let exited: Promise<string> = Promise.resolve('not started');
  let exitInfo: string | undefined;
  let release = (): void => undefined;
  const launch = async (port: number): Promise<number> => {
    const t0 = Date.now();
    exitInfo = undefined;
    const proc = spawn(javaBin(), jvmArgs(dist.jar, port, heapMb, level, workDir), { cwd: dirname(dist.jar), stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    release = guardChild(proc, { name: 'tally-registry', tempDir: workDir }).release;
    exited = new Promise<string>((resolve) => {
      proc.on('error', (e) => resolve((exitInfo = `spawn error: ${e.message}`)));
      // 'close' (not 'exit'): stdout/stderr are drained, so the last output is complete.
      proc.on('close', (code, signal) => resolve((exitInfo = signal !== null ? `signal ${signal}` : `exit code ${String(code)}`)));
    });
    void exited.then(() => release());
    for (const stream of [proc.stdout, proc.stderr]) {
      let buf = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        buf += chunk;
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          pushLine(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
      });
      stream?.on('end', () => buf !== '' && pushLine(buf));
    }
    const url = `http://127.0.0.1:${port}/apis/ccompat/v7`;
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (exitInfo !== undefined) {
        throw new Error(`local-registry: Apicurio Registry ${dist.version} exited during start (${exitInfo}). Last output:\n${output.slice(-50).join('\n')}${hint(output, dist.version)}`);
      }
      if (await answers(url)) return Date.now() - t0;
      if (Date.now() > deadline) {
        await stopProcess(5_000);
        throw new Error(
          `local-registry: Apicurio Registry ${dist.version} on ${url} did not answer within ${startTimeoutMs} ms. ` +
            `Last output (full log: ${join(workDir, 'registry.out')}):\n${output.slice(-50).join('\n')}`,
        );
      }
      await sleep(100);
    }
  };

  const stopProcess = async (timeoutMs: number): Promise<void> => {
    const proc = child;
    if (proc === undefined) return;
    if (exitInfo === undefined) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    }
    release();
    child = undefined;
  };

  let port = options.port ?? (await freePort());
  let startMs: number;
  for (let attempt = 1; ; attempt++) {
    try {
      startMs = await launch(port);
      break;
    } catch (e) {
      await stopProcess(5_000);
      const clash = output.some((l) => /address already in use|port .* in use/i.test(l));
      if (options.port === undefined && clash && attempt < 3) {
        progress(`port ${port} was taken before the registry bound it; retrying on a new port`);
        port = await freePort();
        output.length = 0;
        continue;
      }
      await new Promise<void>((r) => outFile.end(() => r()));
      rmSync(workDir, { recursive: true, force: true });
      throw e;
    }
  }
  const url = `http://127.0.0.1:${port}/apis/ccompat/v7`;
  progress(`Apicurio Registry ${dist.version} up on ${url} in ${(startMs / 1000).toFixed(1)} s (pid ${String(child?.pid)})`);

  let stopped = false;
  return {
    url,
    port,
    version: dist.version,
    workDir,
    get pid() {
      return child?.pid;
    },
    get running() {
      return child !== undefined && exitInfo === undefined;
    },
    timings: { fetchMs: dist.fetchedInMs, startMs },
    recentOutput: () => [...output],
    async stop(stopOptions = {}) {
      if (stopped) return;
      stopped = true;
      await stopProcess(stopOptions.timeoutMs ?? 15_000);
      await new Promise<void>((r) => outFile.end(() => r()));
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}
