/**
 * `tally run` and `tally query` as a user runs them: a child process on the
 * run's real broker, its status lines, SIGTERM, a restart that resumes
 * from the local checkpoint instead of restoring everything, and an exit
 * within app.shutdownTimeout when the pipeline fails or closing hangs.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TallyConfig } from '../../schemas/index.js';
import { createTopics, kafkaClient, produce, waitFor } from '../kafka/kafka-helpers.js';
import { apiClient, holdRestoration, minuteAgo, minuteMs, prepareServiceDocument, removeStateDir, testTokens, untilAnswer, usageEvent } from '../service/service-fixtures.js';
import { repo, runTally, tallyNodeArgs } from './tally-process.js';

describe('tally run --help and tally query --help', () => {
  it('print their usage and exit 0; bad options exit 2, a missing config file 1', async () => {
    const run = await runTally(['run', '--help']);
    expect([run.code, run.stdout]).toEqual([0, expect.stringContaining('Usage: tally run --config FILE')]);
    const query = await runTally(['query', '--help']);
    expect([query.code, query.stdout]).toEqual([0, expect.stringContaining('Usage: tally query')]);
    const badPort = await runTally(['run', '--config', 'x.yaml', '--port', 'eighty']);
    expect([badPort.code, badPort.stderr]).toEqual([2, expect.stringContaining('--port "eighty" must be a port number')]);
    const noQuery = await runTally(['query', '--url', 'http://127.0.0.1:1']);
    expect([noQuery.code, noQuery.stderr]).toEqual([2, expect.stringContaining('give either a QUERY')]);
    const missing = await runTally(['run', '--config', join(tmpdir(), 'no-such-tally.yaml')]);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringContaining('cannot read the config file (ENOENT)')]);
  });
});

/** A `tally run` child process with its output. */
class RunProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  /** When (epoch ms) the process exited. */
  exitedAtMs: number | undefined;
  private readonly child: ChildProcessByStdio<null, Readable, Readable>;

  constructor(configPath: string) {
    this.child = spawn('node', tallyNodeArgs(['run', '--config', configPath, '--port', '0']), { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (chunk: Buffer) => (this.stdout += chunk.toString('utf8')));
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code) => {
        this.exitedAtMs = Date.now();
        resolve(code);
      }),
    );
  }

  /** Its exit status, or 'still running' when it has not exited within `ms` (it is then killed). */
  async exitWithin(ms: number): Promise<number | null | 'still running'> {
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([this.exited, new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), ms)))]);
    clearTimeout(timer);
    if (outcome === 'still running') this.kill();
    return outcome;
  }

  /** Sends SIGTERM now; returns when it was sent (epoch ms). */
  terminate(): number {
    this.child.kill('SIGTERM');
    return Date.now();
  }

  /** The URL of its "ready at" line. */
  async ready(): Promise<string> {
    await waitFor('"ready at" from tally run', () => /ready at http:\S+/.test(this.stdout) || this.child.exitCode !== null, 90_000).catch((error: Error) => {
      throw new Error(`${error.message}\nstdout:\n${this.stdout.slice(-2000)}\nstderr:\n${this.stderr.slice(-3000)}`);
    });
    const url = /ready at (http:\S+)/.exec(this.stdout)?.[1];
    if (url === undefined) throw new Error(`tally run exited ${this.child.exitCode}:\n${this.stderr.slice(-3000)}`);
    return url;
  }

  async stop(): Promise<number | null> {
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 60_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

describe('tally run', () => {
  let config: TallyConfig;
  let workDir: string;
  let configPath: string;
  const processes: RunProcess[] = [];
  const start = (): RunProcess => {
    const started = new RunProcess(configPath);
    processes.push(started);
    return started;
  };
  const minute = minuteAgo(10);
  const query = `meter=tokens&from=${new Date(minute).toISOString()}&to=${new Date(minute + minuteMs).toISOString()}`;

  beforeAll(async () => {
    const prepared = await prepareServiceDocument('cli-run', 2, [{ id: 'acme', subjects: ['acme-prod'] }]);
    config = prepared.config;
    workDir = await mkdtemp(join(tmpdir(), 'tally-run-test-'));
    configPath = join(workDir, 'tally.yaml');
    await writeFile(configPath, JSON.stringify(prepared.document));
  });

  afterAll(async () => {
    for (const p of processes) p.kill();
    await removeStateDir(config);
    await rm(workDir, { recursive: true, force: true });
  });

  it('serves until SIGTERM, exits 0, and a restart resumes from its checkpoints without restoring', async () => {
    const first = start();
    const url = await first.ready();
    const api = apiClient(url, testTokens[0]);
    const events = [2, 3].map((tokens, i) => usageEvent({ id: `run-${i}`, subject: 'acme-prod', timeMs: minute + i * 1_000, data: { tokens, concurrency: 1 } }));
    expect((await api.post('/v1/events', JSON.stringify(events))).status).toBe(202);
    await untilAnswer('the posted tokens', () => api.get(`/v1/meters/tokens/query?${query}`), (a) => a.body?.data?.[0]?.value === '5');
    const answered = await runTally(['query', '--url', url, '--token', testTokens[1], query]);
    expect(answered.code, answered.stderr).toBe(0);
    const before = JSON.parse(answered.stdout) as { data: { value: string }[] };
    expect(before.data.map((row) => row.value)).toEqual(['5']);
    const refused = await runTally(['query', '--url', url, '--token', 'wrong-token', query]);
    expect([refused.code, refused.stderr]).toEqual([1, expect.stringContaining('HTTP 401: the bearer token is not one of http.tokens')]);
    const bad = await runTally(['query', '--url', url, '--token', testTokens[0], `${query}&windowSize=WEEK`]);
    expect([bad.code, bad.stderr, JSON.parse(bad.stdout).error.code]).toEqual([1, expect.stringContaining('HTTP 400: windowSize "WEEK"'), 'query-invalid']);
    expect(first.stderr).toContain('has no valid checkpoint'); // a first start builds its stores from scratch
    expect(await first.stop()).toBe(0);
    expect(first.stdout).toContain('stopped cleanly');

    const second = start();
    const secondUrl = await second.ready();
    expect(second.stderr).not.toContain('has no valid checkpoint');
    // Only the runtime's small progress stores are re-read; every data store starts from its checkpoint.
    expect(second.stderr).not.toMatch(/restoring store (?!progress-)/);
    const again = await runTally(['query', '--config', configPath, '--url', secondUrl, query]);
    expect([again.code, JSON.parse(again.stdout)]).toEqual([0, before]);
    expect(await second.stop()).toBe(0);
  });

  it('shows a progress line with what is left while it restores, then "ready at"', async () => {
    await removeStateDir(config);
    const hold = await holdRestoration(`${config.app.id}-meter-tokens-changelog`, 0);
    const third = start();
    try {
      await waitFor('a restoring progress line', () => /restoring: [\d,]+ records? left in \d+ tasks?/.test(third.stdout) || third.stdout.includes('ready at'), 90_000);
      expect(third.stdout).not.toContain('ready at');
    } finally {
      await hold.release();
    }
    await third.ready();
    expect(await third.stop()).toBe(0);
  });
});

describe('tally run when the pipeline fails or closing hangs', () => {
  const shutdownTimeoutMs = 5_000;
  /** Room for starting and ending a node process on top of the shutdown timeout: the exit must come well before a minute. */
  const exitBoundMs = shutdownTimeoutMs + 10_000;
  const configs: TallyConfig[] = [];
  const processes: RunProcess[] = [];
  let workDir: string;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'tally-run-exit-test-'));
  });

  afterAll(async () => {
    for (const p of processes) p.kill();
    for (const c of configs) await removeStateDir(c);
    await rm(workDir, { recursive: true, force: true });
  });

  /** A config with its topics and a short app.shutdownTimeout, written to a file. */
  async function prepare(prefix: string): Promise<{ config: TallyConfig; configPath: string }> {
    const prepared = await prepareServiceDocument(prefix, 2, []);
    configs.push(prepared.config);
    const document = { ...prepared.document, app: { ...(prepared.document['app'] as object), shutdownTimeout: `PT${shutdownTimeoutMs / 1000}S` } };
    const configPath = join(workDir, `${prepared.config.app.id}.yaml`);
    await writeFile(configPath, JSON.stringify(document));
    return { config: prepared.config, configPath };
  }

  const start = (configPath: string): RunProcess => {
    const run = new RunProcess(configPath);
    processes.push(run);
    return run;
  };

  /** Writes a changelog record no Tally can read (a batch record of an unknown version) to partition 0 of `topic`. */
  async function poisonChangelog(topic: string): Promise<void> {
    await createTopics({ [topic]: 2 }, [{ name: 'cleanup.policy', value: 'compact' }]);
    const batchKey = Buffer.alloc(14);
    batchKey[1] = 0xff;
    await produce(topic, [{ key: batchKey, value: Buffer.from([9, 0, 0, 0, 0]), partition: 0 }]);
  }

  it('exits 1 within app.shutdownTimeout of a pipeline failure, having closed what it could', async () => {
    const { config, configPath } = await prepare('cli-run-fail');
    // Restoring task 1_0's dedupe store meets the unreadable record, and the pipeline fails.
    await poisonChangelog(`${config.app.id}-dedupe-changelog`);
    const run = start(configPath);
    await waitFor('the pipeline to fail', () => run.stderr.includes('the pipeline failed') || run.exitedAtMs !== undefined, 90_000);
    const failedAtMs = Date.now();
    const code = await run.exitWithin(exitBoundMs);
    expect(code, run.stderr.slice(-3000)).toBe(1);
    expect(run.stderr).toContain('tally run: the pipeline failed: a changelog batch record of 5 bytes has version 9');
    expect((run.exitedAtMs as number) - failedAtMs).toBeLessThan(exitBoundMs);
    expect(run.stdout).not.toContain('stopped cleanly');
  });

  it('ends within app.shutdownTimeout of SIGTERM even when closing hangs, exits 1 and names what did not close', async () => {
    const { config, configPath } = await prepare('cli-run-hang');
    const run = start(configPath);
    await run.ready();
    // With its changelog topics gone, the final commit of every task retries for ever.
    const admin = kafkaClient('run-exit-test').admin();
    await admin.connect();
    try {
      const changelogs = (await admin.listTopics()).filter((topic) => topic.startsWith(`${config.app.id}-`) && topic.endsWith('-changelog'));
      expect(changelogs.length).toBeGreaterThan(0);
      await admin.deleteTopics({ topics: changelogs });
    } finally {
      await admin.disconnect();
    }
    const sentAtMs = run.terminate();
    const code = await run.exitWithin(exitBoundMs);
    expect(code, run.stderr.slice(-3000)).toBe(1);
    expect((run.exitedAtMs as number) - sentAtMs).toBeLessThan(exitBoundMs);
    expect(run.stderr).toMatch(/shutdown: did not close cleanly in \d+ ms: the pipeline \(still closing when the shutdown timeout/);
    expect(run.stdout).not.toContain('stopped cleanly');
  });
});
