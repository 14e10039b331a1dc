/**
 * `tally produce` against the run's real broker: in process (runProduce) for
 * the details, and as the `tally` command in a child process for exit
 * statuses and streams.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/commands/cli-args.js';
import { createProgressLine } from '../../cli/commands/progress-line.js';
import { parseProduceArgs } from '../../cli/commands/produce-args.js';
import { runProduce, type ProduceIo } from '../../cli/commands/produce.js';
import { brokers, createTopics, readTopic, uniqueName } from '../kafka/kafka-helpers.js';

const execute = promisify(execFile);
const repo = fileURLToPath(new URL('../..', import.meta.url));

let workDir: string;
beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'tally-produce-test-'));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** A config whose input topic is a fresh topic on the run's broker. */
async function setup(): Promise<{ config: string; topic: string }> {
  const topic = uniqueName('produce');
  await createTopics({ [topic]: 2 });
  const config = join(workDir, `${topic}.yaml`);
  const yaml = [
    `kafka: { brokers: ${JSON.stringify(brokers())} }`,
    `topics: { events: ${topic} }`,
    'meters:',
    '  - { slug: api_requests, eventType: api.request, aggregation: COUNT }',
  ].join('\n');
  await writeFile(config, `${yaml}\n`);
  return { config, topic };
}

async function produce(args: readonly string[]): Promise<{ status: number; stdout: string; stderr: string; progress: string[] }> {
  let stdout = '';
  const stderr: string[] = [];
  const progress: string[] = [];
  const io: ProduceIo = {
    write: (text) => void (stdout += text),
    error: (line) => void stderr.push(line),
    progress: { update: (line) => void progress.push(line), done: (line) => void progress.push(line) },
  };
  const status = await runProduce(parseProduceArgs(args), io);
  return { status, stdout, stderr: stderr.join('\n'), progress };
}

/** Runs the real `tally` entry point (cli/main.ts) in a child process. */
async function tally(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const entry = "import { main } from './cli/main.ts'; process.exitCode = await main(process.argv.slice(1));";
  return execute('node', ['--import', 'tsx', '--input-type=module', '-e', entry, '--', ...args], { cwd: repo, timeout: 60_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

const event = (fields: Record<string, unknown>): string =>
  JSON.stringify({ specversion: '1.0', source: 'cli-test', type: 'api.request', time: '2024-01-01T00:00:00Z', data: {}, ...fields });

describe('tally produce', () => {
  it('sends every line of a JSONL file as is, malformed ones included, keyed by subject when there is one', async () => {
    const { config, topic } = await setup();
    const lines = [event({ id: 'e1', subject: 'acme' }), 'not json at all', event({ id: 'e2', subject: 'beta' }), '{"subject": 5}', '', event({ id: 'e3' }), '[1,2]'];
    const input = join(workDir, `${topic}.jsonl`);
    await writeFile(input, `${lines.join('\n')}\n\n`);

    const result = await produce(['--config', config, '--input', input]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^tally produce: sent 7 records to ${topic} \\(2 keyed by subject, 5 without a key\\) in \\d+\\.\\d s\\n$`));
    expect(result.progress.at(-1)).toBe('sent 7 / 7 records');

    const records = await readTopic(topic);
    expect(records.map((r) => r.value).sort()).toEqual([...lines].sort());
    const keyOf = new Map(records.map((r) => [r.value, r.key]));
    expect(keyOf.get(lines[0] as string)).toBe('acme');
    expect(keyOf.get(lines[2] as string)).toBe('beta');
    for (const index of [1, 3, 4, 5, 6]) expect(keyOf.get(lines[index] as string)).toBeNull();
  });

  it('sends one valid --event keyed by its subject, to --topic when given', async () => {
    const { config } = await setup();
    const other = uniqueName('produce-other');
    await createTopics({ [other]: 1 });
    const value = event({ id: 'single', subject: 'acme' });
    const result = await produce(['--config', config, '--event', value, '--topic', other]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`sent 1 records to ${other} (1 keyed by subject, 0 without a key)`);
    expect((await readTopic(other)).map((r) => [r.key, r.value])).toEqual([['acme', value]]);
  });

  it('refuses an invalid --event with the reason, sending nothing', async () => {
    const { config, topic } = await setup();
    const result = await produce(['--config', config, '--event', event({ id: 'no-subject' })]);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe('tally produce: --event is not a valid usage event: usage event rejected (missing-field): subject is missing; it must be a non-empty string; nothing was sent');
    const future = await produce(['--config', config, '--event', event({ id: 'f', subject: 'a', time: '2099-01-01T00:00:00Z' })]);
    expect(future).toMatchObject({ status: 1, stderr: expect.stringContaining('(future-time)') });
    expect(await readTopic(topic)).toEqual([]);
  });

  it('exits 1 when the topic does not exist, or the input or config cannot be read', async () => {
    const { config } = await setup();
    const missingTopic = await produce(['--config', config, '--event', event({ id: 'x', subject: 'a' }), '--topic', 'no-such-topic-here']);
    expect(missingTopic).toMatchObject({ status: 1, stderr: expect.stringContaining('topic "no-such-topic-here" does not exist') });
    const missingInput = await produce(['--config', config, '--input', join(workDir, 'missing.jsonl')]);
    expect(missingInput).toMatchObject({ status: 1, stderr: expect.stringContaining('cannot read --input') });
    const missingConfig = await produce(['--config', join(workDir, 'missing.yaml'), '--input', 'x']);
    expect(missingConfig).toMatchObject({ status: 1, stderr: expect.stringContaining('cannot read the config file') });
  });

  it('checks its options', () => {
    expect(() => parseProduceArgs(['--input', 'x'])).toThrow('--config is required');
    expect(() => parseProduceArgs(['--config', 'c'])).toThrow('give exactly one of --input FILE');
    expect(() => parseProduceArgs(['--config', 'c', '--input', 'x', '--event', '{}'])).toThrow(UsageError);
    expect(() => parseProduceArgs(['--config', 'c', '--input'])).toThrow('--input needs a value');
    expect(() => parseProduceArgs(['--config', 'c', '--bogus'])).toThrow('unknown option "--bogus"');
    expect(parseProduceArgs(['--config=c', '--event={"a":1}'])).toEqual({ configPath: 'c', inputPath: undefined, event: '{"a":1}', topic: undefined });
  });

  it('shows progress in place on a terminal and as plain, throttled lines otherwise', () => {
    let clock = 0;
    const terminal: string[] = [];
    const onTerminal = createProgressLine({ isTTY: true, write: (t) => terminal.push(t) }, { clockMs: () => clock });
    onTerminal.update('sent 1 / 3 records');
    onTerminal.update('sent 2 / 3 records'); // too soon: dropped
    onTerminal.done('sent 3 / 3 records');
    expect(terminal).toEqual(['\rsent 1 / 3 records\u001b[K', '\rsent 3 / 3 records\u001b[K', '\n']);

    const plain: string[] = [];
    const onFile = createProgressLine({ write: (t) => plain.push(t) }, { clockMs: () => clock });
    onFile.update('sent 1 / 3 records');
    clock += 5_000;
    onFile.update('sent 2 / 3 records');
    onFile.done('sent 3 / 3 records');
    expect(plain).toEqual(['sent 1 / 3 records\n', 'sent 2 / 3 records\n', 'sent 3 / 3 records\n']);
  });
});

describe('tally produce (the tally command, in a child process)', () => {
  it('sends a file, with progress on stderr and the summary on stdout', async () => {
    const { config, topic } = await setup();
    const input = join(workDir, `${topic}.jsonl`);
    await writeFile(input, Array.from({ length: 1_200 }, (_, i) => event({ id: `e${i}`, subject: `s${i % 5}` })).join('\n'));
    const result = await tally(['produce', '--config', config, '--input', input]);
    expect(result.stderr).toContain('sent 1,200 / 1,200 records\n');
    expect(result).toMatchObject({ code: 0, stdout: expect.stringContaining(`sent 1,200 records to ${topic} (1,200 keyed by subject, 0 without a key)`) });
    expect(await readTopic(topic)).toHaveLength(1_200);
  });

  it('exits 1 with the reason on a bad --event, 2 on bad options, and prints usage with --help', async () => {
    const { config } = await setup();
    const bad = await tally(['produce', '--config', config, '--event', '{"specversion":"1.0"']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--event is not a valid usage event: usage event rejected (invalid-encoding): the value is not JSON');
    const badOptions = await tally(['produce', '--config', config]);
    expect(badOptions).toMatchObject({ code: 2, stderr: expect.stringContaining('give exactly one of --input FILE') });
    const help = await tally(['produce', '--help']);
    expect(help).toMatchObject({ code: 0, stdout: expect.stringContaining('Usage: tally produce --config FILE (--input EVENTS.jsonl | --event JSON) [--topic TOPIC]') });
    const commands = await tally(['--help']);
    expect(commands.stdout).toMatch(/produce\s+send usage events/);
  });
});
