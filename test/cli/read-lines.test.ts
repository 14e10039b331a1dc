import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLines } from '../../cli/commands/read-lines.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tally-lines-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function linesOf(content: Buffer | string): Promise<Buffer[]> {
  const path = join(dir, `input-${Math.random().toString(36).slice(2)}`);
  await writeFile(path, content);
  const lines: Buffer[] = [];
  for await (const line of readLines(path)) lines.push(line);
  return lines;
}

const text = async (content: string): Promise<string[]> => (await linesOf(content)).map((b) => b.toString('utf8'));

describe('readLines', () => {
  it('splits on newlines and drops a trailing carriage return', async () => {
    expect(await text('a\nb\r\nc')).toEqual(['a', 'b', 'c']);
  });

  it('ignores empty lines at the end, keeps empty lines before more input', async () => {
    expect(await text('a\n\nb\n\n\r\n\n')).toEqual(['a', '', 'b']);
    expect(await text('\n\n')).toEqual([]);
    expect(await text('')).toEqual([]);
  });

  it('keeps bytes that are not UTF-8 as they are', async () => {
    const lines = await linesOf(Buffer.from([0x61, 0xff, 0x0a, 0xfe, 0x62]));
    expect(lines).toEqual([Buffer.from([0x61, 0xff]), Buffer.from([0xfe, 0x62])]);
  });

  it('joins lines that span read chunks', async () => {
    const long = 'x'.repeat(200_000);
    expect(await text(`${long}\nshort\n${long}y`)).toEqual([long, 'short', `${long}y`]);
  });
});
