import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReplay, type ReplayIo } from '../../cli/commands/replay.js';
import { parseReplayArgs, UsageError } from '../../cli/commands/replay-args.js';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = join(repo, 'test/fixtures/replay');
const config = join(fixtures, 'tally.yaml');
const events = join(fixtures, 'events.jsonl');
const now = '2024-01-01T00:05:00Z';

interface OutputLine {
  readonly topic: string;
  readonly key: string | null;
  readonly value: Record<string, unknown> | null;
}

async function replay(args: readonly string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  const stderr: string[] = [];
  const io: ReplayIo = { write: (text) => void (stdout += text), error: (line) => void stderr.push(line) };
  const status = await runReplay(parseReplayArgs(args), io);
  return { status, stdout, stderr: stderr.join('\n') };
}

const lines = (stdout: string): OutputLine[] => stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as OutputLine);
const brief = (line: OutputLine): string => {
  const v = line.value ?? {};
  if (line.topic === 'meters') return `meters ${String(v.meter)} ${String(v.subject)} ${String(v.windowStart).slice(11, 16)} ${String(v.value)} ${v.final === true ? 'final' : 'update'}`;
  if (line.topic === 'late') return `late ${String(v.meter)} ${String(v.windowStart).slice(11, 16)} ${String((v.event as { id: string }).id)}`;
  return `${line.topic} ${String(v.reason)}`;
};

let workDir: string;
beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'tally-replay-test-'));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe('tally replay', () => {
  it('prints one JSON line per output record, in output order', async () => {
    const { status, stdout, stderr } = await replay(['--config', config, '--input', events, '--now', now]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(lines(stdout).map(brief)).toEqual([
      'meters api_requests acme 00:00 1 update',
      'meters tokens acme 00:00 0.1 update',
      'meters tokens acme 00:00 0.3 update',
      'dead-letter invalid-encoding', // not json
      'dead-letter invalid-encoding', // the empty line in the middle
      'dead-letter future-time',
      'dead-letter invalid-value',
      'meters api_requests acme 00:00 1 final', // closed by stream time (00:03 >= 00:01 + PT1M)
      'meters tokens acme 00:00 0.3 final',
      'meters seats acme 00:03 5 update',
      'late api_requests 00:00 r2',
      'meters api_requests beta 00:03 1 update',
      // Closed by the wall clock at --now (00:04 + PT1M), meter by meter in config order.
      'meters api_requests beta 00:03 1 final',
      'meters seats acme 00:03 5 final',
    ]);
  });

  it('writes keys as strings (null when the record had none) and values as the topic\'s JSON', async () => {
    const { stdout } = await replay(['--config', config, '--input', events, '--now', now]);
    const output = lines(stdout);
    expect(output[0]).toEqual({
      topic: 'meters',
      key: 'api_requests|acme|{"route":"/a"}|2024-01-01T00:00:00.000Z',
      value: {
        meter: 'api_requests',
        subject: 'acme',
        groupBy: { route: '/a' },
        windowStart: '2024-01-01T00:00:00.000Z',
        windowEnd: '2024-01-01T00:01:00.000Z',
        aggregation: 'COUNT',
        value: '1',
        count: 1,
        final: false,
      },
    });
    const deadLetter = output.find((line) => line.topic === 'dead-letter');
    expect(deadLetter).toMatchObject({ key: null, value: { topic: 'usage-events', partition: 0, offset: '4', timestamp: '2024-01-01T00:05:00.000Z', key: null, value: Buffer.from('not json').toString('base64') } });
    expect(output.find((line) => line.topic === 'late')?.key).toBe('api_requests|acme|{"route":"/a"}|2024-01-01T00:00:00.000Z');
    expect(output.find((line) => (line.value as { subject?: string }).subject === 'beta')?.value).toMatchObject({ groupBy: { route: '' } });
  });

  it('is deterministic: the same input and --now give the same bytes', async () => {
    const first = await replay(['--config', config, '--input', events, '--now', now]);
    const second = await replay(['--config', config, '--input', events, '--now', now]);
    expect(second.stdout).toBe(first.stdout);
    expect(first.stdout.length).toBeGreaterThan(0);
  });

  it('finalizes at the end exactly the windows whose end + allowedLateness is at or before --now', async () => {
    const input = join(workDir, 'boundary.jsonl');
    await writeFile(input, '{"specversion":"1.0","id":"a","source":"s","type":"api.request","subject":"acme","time":"2024-01-01T00:00:10Z"}\n');
    const finals = async (nowIso: string) =>
      lines((await replay(['--config', config, '--input', input, '--now', nowIso])).stdout).filter((l) => (l.value as { final?: boolean }).final === true).length;
    expect(await finals('2024-01-01T00:01:59.999Z')).toBe(0);
    expect(await finals('2024-01-01T00:02:00Z')).toBe(1);
  });

  it('uses --now as the ingestion time and the reference of the future bound', async () => {
    const input = join(workDir, 'now.jsonl');
    await writeFile(
      input,
      [
        '{"specversion":"1.0","id":"a","source":"s","type":"llm.tokens","subject":"acme","data":{"tokens":1}}',
        '{"specversion":"1.0","id":"b","source":"s","type":"llm.tokens","subject":"acme","time":"2024-06-01T12:05:00Z","data":{"tokens":2}}',
        '{"specversion":"1.0","id":"c","source":"s","type":"llm.tokens","subject":"acme","time":"2024-06-01T12:05:00.001Z","data":{"tokens":4}}',
      ].join('\r\n'),
    );
    const output = lines((await replay(['--config', config, '--input', input, '--now', '2024-06-01T12:00:00Z'])).stdout).map(brief);
    expect(output).toEqual([
      'meters tokens acme 12:00 1 update', // no time: stamped with --now
      'meters tokens acme 12:00 1 final', // the event exactly maxFutureSkew ahead is accepted and moves stream time to 12:05
      'meters tokens acme 12:05 2 update',
      'dead-letter future-time', // one ms more is refused
    ]);
  });

  it('prints the query result instead of the records with --query', async () => {
    const query = 'meter=tokens&from=2024-01-01T00:00:00Z&to=2024-01-01T01:00:00Z';
    const { status, stdout } = await replay(['--config', config, '--input', events, '--now', now, '--query', query]);
    expect(status).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ meter: 'tokens', data: [{ windowStart: '2024-01-01T00:00:00.000Z', windowEnd: '2024-01-01T01:00:00.000Z', value: '0.3' }] });
    expect(stdout.trimEnd().split('\n')).toHaveLength(1);
  });

  it('prints the error and exits non-zero for an invalid query', async () => {
    const { status, stdout, stderr } = await replay(['--config', config, '--input', events, '--query', 'meter=nope&from=2024-01-01T00:00:00Z&to=2024-01-01T01:00:00Z']);
    expect(status).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ error: { code: 'query-meter-unknown' } });
    expect(stderr).toContain('nope');
  });

  it('exits 1 with a clear message for a missing config or input file', async () => {
    const noConfig = await replay(['--config', join(workDir, 'absent.yaml'), '--input', events]);
    expect(noConfig).toMatchObject({ status: 1, stdout: '' });
    expect(noConfig.stderr).toContain('absent.yaml');
    const noInput = await replay(['--config', config, '--input', join(workDir, 'absent.jsonl')]);
    expect(noInput).toMatchObject({ status: 1, stdout: '' });
    expect(noInput.stderr).toContain('absent.jsonl');
  });

  it.each([
    [[], '--config FILE is required'],
    [['--config', config], '--input FILE is required'],
    [['--config', config, '--input', events, '--now', 'yesterday'], '--now "yesterday"'],
    [['--config', config, '--input', events, '--now', '2024-01-01T00:00:00'], 'with a zone'],
    [['--config', config, '--input', events, '--bogus'], 'unknown option "--bogus"'],
    [['--config', config, '--config', config, '--input', events], 'given twice'],
    [['--config', config, '--input', events, '--commit-every', '0'], '--commit-every'],
    [['--config'], 'needs a value'],
  ])('refuses bad options %j', (args, message) => {
    expect(() => parseReplayArgs(args)).toThrow(UsageError);
    expect(() => parseReplayArgs(args)).toThrow(message);
  });

  it('accepts --flag=value forms', () => {
    expect(parseReplayArgs([`--config=${config}`, `--input=${events}`, `--now=${now}`, '--commit-every=10'])).toEqual({
      configPath: config,
      inputPath: events,
      nowMs: Date.parse(now),
      query: undefined,
      commitEveryRecords: 10,
    });
  });
});

describe('tally replay (built CLI, end to end)', () => {
  beforeAll(async () => {
    // Compiles dist/ (tsc emits even when another part of the tree has type errors; the run below is the check).
    await run('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: repo }).catch(() => undefined);
  }, 180_000);

  it('runs `node bin/tally.js replay` and prints the same bytes as the in-process command', async () => {
    const { stdout } = await run('node', ['bin/tally.js', 'replay', '--config', config, '--input', events, '--now', now], { cwd: repo });
    const direct = await replay(['--config', config, '--input', events, '--now', now]);
    expect(stdout).toBe(direct.stdout);
  });

  it('exits 2 on bad options and prints help with --help', async () => {
    const failure = await run('node', ['bin/tally.js', 'replay', '--bogus'], { cwd: repo }).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown option') });
    const help = await run('node', ['bin/tally.js', 'replay', '--help'], { cwd: repo });
    expect(help.stdout).toContain('Usage: tally replay --config FILE --input EVENTS.jsonl');
  });
});
