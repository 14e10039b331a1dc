/**
 * `tally demo` end to end, as a user runs it (the real CLI entry point in a
 * child process) against the run's real broker: meter, billing, late and
 * dead-letter lines appear, the summary's counts match what the demo says it
 * sent, it exits 0, and it leaves no topic behind. One run uses a real
 * Apicurio Registry through --config, with --keep, ended by Ctrl-C (SIGINT).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRegistry, type LocalRegistry } from '../../cli/local-cluster/local-registry.js';
import { brokers, kafkaClient, waitFor } from '../kafka/kafka-helpers.js';
import { repo, runTally, tallyNodeArgs, type TallyRun } from './tally-process.js';

const demoTimeoutMs = 150_000;
const tally = (args: readonly string[]): Promise<TallyRun> => runTally(args, demoTimeoutMs);

/** What the summary says was sent, and each check line's verdict and finding. */
interface Sent {
  readonly records: number;
  readonly events: number;
  readonly duplicates: number;
  readonly late: number;
  readonly malformed: number;
}

function readSummary(stdout: string): { sent: Sent; reasons: string; checks: Map<string, { ok: boolean; found: string }> } {
  const sent = /sent: (\d+) records = (\d+) events \+ (\d+) duplicates \+ (\d+) late \+ (\d+) malformed \((.*)\)/.exec(stdout);
  if (sent === null) throw new Error(`no "sent:" line in the demo's output:\n${stdout.slice(-3000)}`);
  const [records = NaN, events = NaN, duplicates = NaN, late = NaN, malformed = NaN] = sent.slice(1, 6).map(Number);
  const checks = new Map<string, { ok: boolean; found: string }>();
  for (const match of stdout.matchAll(/^ {2}(ok|MISMATCH) +(events counted by the meters|duplicates dropped|late events|dead letters|billing details matching the usage sent|invoices adding up to their billing details|usage alerts, one per threshold reached) +(.+)$/gm)) {
    checks.set(match[2] as string, { ok: match[1] === 'ok', found: (match[3] as string).trim() });
  }
  return { sent: { records, events, duplicates, late, malformed }, reasons: sent[6] as string, checks };
}

function expectCompleteDemo(result: TallyRun): void {
  const { stdout } = result;
  // kafkajs logs through Tally's logger; what it retries while the group forms is not shown.
  expect(`${stdout}\n${result.stderr}`).not.toMatch(/kafkajs/i);
  expect(stdout).toMatch(/^meter {4}api_requests +acme-prod +route=\/v1\/\w+ +\d\d:\d\d–\d\d:\d\d +\d+$/m);
  expect(stdout).toMatch(/^meter {4}tokens +kumo-web +- +\d\d:\d\d–\d\d:\d\d +[\d,]+$/m);
  expect(stdout).toMatch(/^billing {2}acme +base +\d{4}-\d\d-15\.\.\d{4}-\d\d-15 +USD [\d,]+\.\d\d {2}provisional, rev \d+$/m);
  expect(stdout).toMatch(/^billing {2}kumo +seats +\d{4}-\d\d-\d\d\.\.\d{4}-\d\d-\d\d +JPY [\d,]+ {2}provisional, rev \d+$/m);
  expect(stdout).toMatch(/^invoice {2}acme +\d lines? +\d{4}-\d\d-15\.\.\d{4}-\d\d-15 +USD [\d,]+\.\d\d {2}draft, rev \d+$/m);
  expect(stdout).toMatch(/^alert {4}acme +tokens-monthly +100% of 8,000 reached: [\d,]+ at \d\d:\d\d \(period \d{4}-\d\d-15\.\.\d{4}-\d\d-15\)$/m);
  expect(stdout.match(/^alert /gm)).toHaveLength(1);
  expect(stdout).toMatch(/^late {5}tokens +acme-prod +tok-late at /m);
  expect(stdout).toMatch(/^dead-letter {2}invalid-encoding /m);
  expect(stdout).toMatch(/^dead-letter {2}invalid-value /m);

  const { sent, reasons, checks } = readSummary(stdout);
  expect(sent.records).toBe(sent.events + sent.duplicates + sent.late + sent.malformed);
  expect(sent.duplicates).toBeGreaterThan(0);
  expect(checks.get('events counted by the meters')).toEqual({ ok: true, found: String(sent.events) });
  expect(checks.get('duplicates dropped')).toEqual({ ok: true, found: String(sent.duplicates) });
  expect(checks.get('late events')).toEqual({ ok: true, found: String(sent.late) });
  expect(checks.get('dead letters')).toEqual({ ok: true, found: reasons });
  expect(checks.get('billing details matching the usage sent')?.ok).toBe(true);
  expect(checks.get('invoices adding up to their billing details')?.ok).toBe(true);
  expect(checks.get('usage alerts, one per threshold reached')).toEqual({ ok: true, found: '1' });
  expect(stdout).toMatch(/^ {2}acme +America\/Los_Angeles +\d+ +[\d,]+ +[\d,]+ +\d+ +USD [\d,]+\.\d\d +USD [\d,]+\.\d\d draft r\d+$/m);
}

/** The run's topic prefix, from the scenario's "outputs:" line (e.g. `tally-demo-1a2b3c4d-`). */
function runPrefix(stdout: string): string {
  const prefix = /outputs: +(tally-demo-[0-9a-f]{8}-)tally-meters/.exec(stdout)?.[1];
  if (prefix === undefined) throw new Error(`no per-run topic names in the demo's output:\n${stdout.slice(0, 2000)}`);
  return prefix;
}

async function topicsStartingWith(prefix: string): Promise<string[]> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  } finally {
    await admin.disconnect();
  }
}

describe('tally demo', () => {
  it('runs on an existing cluster, prints meters, billing details, late events and dead letters, and a summary that matches what it sent', async () => {
    const result = await tally(['demo', '--brokers', brokers().join(','), '--no-avro']);
    expect(result.code, result.stderr.slice(-3000)).toBe(0);
    expectCompleteDemo(result);
    expect(result.stderr).toContain('tally demo: tearing down');
    expect(await topicsStartingWith(runPrefix(result.stdout))).toEqual([]);
  }, demoTimeoutMs);

  describe('with a schema registry from --config, kept running until Ctrl-C', () => {
    let registry: LocalRegistry;
    let workDir: string;
    beforeAll(async () => {
      registry = await startLocalRegistry();
      workDir = await mkdtemp(join(tmpdir(), 'tally-demo-test-'));
    });
    afterAll(async () => {
      await registry?.stop();
      await rm(workDir, { recursive: true, force: true });
    });

    it('sends some events as Avro, keeps printing until SIGINT, then cleans up and exits 0', async () => {
      const configPath = join(workDir, 'tally.yaml');
      await writeFile(configPath, JSON.stringify({ kafka: { brokers: brokers() }, schemaRegistry: { url: registry.url }, meters: [{ slug: 'x', eventType: 'x', aggregation: 'COUNT' }] }));
      const child = spawn('node', tallyNodeArgs(['demo', '--config', configPath, '--keep']), { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      try {
        await waitFor('the demo to say it keeps running', () => stdout.includes('Ctrl-C stops everything') || child.exitCode !== null, demoTimeoutMs - 20_000);
        expect(stdout, stderr.slice(-3000)).toContain('Still running (--keep)');
        expect(stdout).toContain(`schema registry ${registry.url}`);
        expect(stderr).toContain('the same token event again, as JSON this time (it was Avro)');
        const prefix = runPrefix(stdout);
        expect((await topicsStartingWith(prefix)).length).toBeGreaterThanOrEqual(6);
        // The sample query it prints answers, with the token it prints.
        const curl = /curl -H 'Authorization: Bearer (\S+)' '(\S+)'/.exec(stdout);
        expect(curl, stdout.slice(-1500)).not.toBeNull();
        const response = await fetch(curl?.[2] as string, { headers: { authorization: `Bearer ${curl?.[1] as string}` } });
        expect(response.status).toBe(200);
        const body = (await response.json()) as { meter: string; data: { subject: string; value: string }[] };
        expect(body.meter).toBe('tokens');
        expect(body.data.length).toBeGreaterThan(0);
        expect(body.data.every((row) => row.subject === 'acme-prod')).toBe(true);
        child.kill('SIGINT');
        expect(await exited).toBe(0);
        expectCompleteDemo({ code: 0, stdout, stderr });
        expect(await topicsStartingWith(prefix)).toEqual([]);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    }, demoTimeoutMs);
  });

  it('explains itself with --help and refuses unknown options with exit status 2', async () => {
    const help = await tally(['demo', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: tally demo [--config FILE] [--brokers HOST:PORT[,HOST:PORT]] [--no-avro] [--keep]');
    const bad = await tally(['demo', '--brokers', 'nohost']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--brokers "nohost": write host:port');
  });
});
