/**
 * A real Prometheus (Debian's package, unpacked by .ci/install-prometheus.sh)
 * as a child process on 127.0.0.1 for tests: scrapes given targets every
 * second into a temporary TSDB and answers instant queries.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stringify } from 'yaml';

const installScript = fileURLToPath(new URL('../../.ci/install-prometheus.sh', import.meta.url));

/** Runs the install script (a no-op once cached) and returns the binary's path. */
export async function installPrometheus(): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(installScript, [], { timeout: 300_000 });
    const binary = stdout.trim().split('\n').at(-1);
    if (binary === undefined || binary === '') throw new Error('it printed no path');
    return binary;
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`${installScript} failed: ${(error as Error).message}\n${stderr ?? ''}`);
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  await new Promise((ok) => server.close(ok));
  if (address === null || typeof address === 'string') throw new Error('no TCP port from the OS');
  return address.port;
}

/** One series of an instant vector: its labels and value (a decimal string, or "NaN"). */
export interface VectorSample {
  readonly metric: Record<string, string>;
  readonly value: readonly [number, string];
}

type QueryAnswer = { status: 'success'; data: { resultType: string; result: unknown } } | { status: 'error'; errorType: string; error: string };

export class PrometheusServer {
  readonly output: string[] = [];
  private readonly exited: Promise<void>;
  private alive = true;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    private readonly dataDir: string,
  ) {
    this.exited = new Promise((ok) => {
      child.once('exit', () => {
        this.alive = false;
        ok();
      });
      child.once('error', (error) => {
        this.output.push(`could not run prometheus: ${error.message}`);
        this.alive = false;
        ok();
      });
    });
    const keep = (chunk: Buffer) => this.output.push(...chunk.toString().trimEnd().split('\n').slice(-50));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  /** Starts Prometheus scraping `metricsPath` of each `host:port` target every second, under job `job`. */
  static async start(binary: string, options: { job: string; targets: readonly string[]; metricsPath?: string }): Promise<PrometheusServer> {
    const dataDir = await mkdtemp(join(tmpdir(), 'tally-prometheus-'));
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      scrape_configs: [{ job_name: options.job, metrics_path: options.metricsPath ?? '/metrics', static_configs: [{ targets: options.targets }] }],
    };
    await writeFile(join(dataDir, 'prometheus.yml'), stringify(config));
    const port = await freePort();
    const args = [`--config.file=${join(dataDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dataDir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'];
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new PrometheusServer(child, `http://127.0.0.1:${port}`, dataDir);
    const deadline = Date.now() + 30_000;
    while (!(await server.isReady())) {
      if (!server.alive || Date.now() > deadline) {
        await server.stop();
        throw new Error(`prometheus did not become ready on 127.0.0.1:${port} (exit code ${child.exitCode}):\n${server.output.join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return server;
  }

  private async isReady(): Promise<boolean> {
    return fetch(`${this.url}/-/ready`).then(
      (response) => response.ok,
      () => false,
    );
  }

  /** An instant query at the current time; throws with Prometheus's error when it refuses the expression. */
  async query(expr: string): Promise<VectorSample[]> {
    const response = await fetch(`${this.url}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: expr }) });
    const answer = (await response.json()) as QueryAnswer;
    if (answer.status === 'error') throw new Error(`${answer.errorType}: ${answer.error}`);
    if (answer.data.resultType !== 'vector') throw new Error(`expected an instant vector, got a ${answer.data.resultType}`);
    return answer.data.result as VectorSample[];
  }

  /** Values of label `name` over the series matching `match` (what Grafana's label_values() asks). */
  async labelValues(name: string, match: string): Promise<string[]> {
    const response = await fetch(`${this.url}/api/v1/label/${encodeURIComponent(name)}/values?${new URLSearchParams({ 'match[]': match })}`);
    const answer = (await response.json()) as { status: string; data?: string[]; error?: string };
    if (answer.status !== 'success') throw new Error(`label values of ${name}: ${answer.error ?? answer.status}`);
    return answer.data ?? [];
  }

  /** Stops Prometheus (SIGTERM, SIGKILL after 10 s) and removes its data. */
  async stop(): Promise<void> {
    if (this.alive) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
