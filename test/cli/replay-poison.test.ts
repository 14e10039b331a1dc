/**
 * `tally replay` on poison input: the events the pipeline cannot store are
 * printed as dead letters with their reason, and the replay goes on.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReplay, type ReplayIo } from '../../cli/commands/replay.js';
import { parseReplayArgs } from '../../cli/commands/replay-args.js';
import { poisonEventText, poisonEvents } from '../fixtures/poison-events.js';

const config = fileURLToPath(new URL('../fixtures/replay/tally.yaml', import.meta.url));
const timeMs = Date.parse('2024-01-01T00:00:10Z');

let workDir: string;
beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'tally-replay-poison-'));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe('tally replay on poison input', () => {
  it('prints each poison event as a dead letter with its reason, and counts the events after it', async () => {
    const good = '{"specversion":"1.0","id":"good","source":"s","type":"api.request","subject":"acme","time":"2024-01-01T00:00:20Z","data":{"route":"/a"}}';
    const input = join(workDir, 'poison.jsonl');
    await writeFile(input, [...poisonEvents.map((poison, i) => poisonEventText(poison, { id: `p${i}`, source: 's', timeMs })), good].join('\n') + '\n');
    let stdout = '';
    const stderr: string[] = [];
    const io: ReplayIo = { write: (text) => void (stdout += text), error: (line) => void stderr.push(line) };
    const status = await runReplay(parseReplayArgs(['--config', config, '--input', input, '--now', '2024-01-01T00:01:00Z']), io);
    expect(stderr).toEqual([]);
    expect(status).toBe(0);
    const output = stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { topic: string; value: { reason?: string; offset?: string; message?: string; subject?: string; value?: string } });
    const dead = output.filter((line) => line.topic === 'dead-letter').map((line) => line.value);
    expect(dead.map((d) => [d.offset, d.reason])).toEqual(poisonEvents.map((poison, i) => [String(i), poison.reason]));
    for (const [i, poison] of poisonEvents.entries()) expect(dead[i]?.message, poison.label).toContain(poison.says);
    expect(output.filter((line) => line.topic === 'meters').map((line) => [line.value.subject, line.value.value])).toEqual([['acme', '1']]);
  });
});
