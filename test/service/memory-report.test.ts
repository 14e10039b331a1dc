import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryReport, startMemoryLog } from '../../service/index.js';
import { LevelBytesStore } from '../../state/index.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const field = (report: string, name: string): string | undefined => new RegExp(`${name}=([^ ]+)`).exec(report)?.[1];

describe('the memory report', () => {
  it('gives the resident set, the V8 heap and its spaces, Buffers, and the LevelDB databases open', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tally-memory-'));
    dirs.push(dir);
    const before = Number(field(memoryReport(), 'leveldb'));
    const store = new LevelBytesStore(path.join(dir, 'db'));
    await store.open();
    const report = memoryReport();
    await store.close();

    expect(report).toMatch(/^memory MiB: rss=\d+\.\d /);
    for (const name of ['heapUsed', 'heapTotal', 'heapLimit']) expect(Number(field(report, name))).toBeGreaterThan(0);
    // Buffers may round to 0.0 MiB in a fresh process.
    for (const name of ['external', 'arrayBuffers']) expect(field(report, name)).toMatch(/^\d+\.\d$/);
    expect(field(report, 'oldSpace')).toMatch(/^\d+\.\d\/\d+\.\d$/);
    expect(Number(field(report, 'leveldb'))).toBe(before + 1);
    expect(Number(field(memoryReport(), 'leveldb'))).toBe(before);
    expect(report).toMatch(/leveldb=\d+ \(\d+\.\d configured\)$/);
  });

  it('is logged every interval until stopped', async () => {
    const lines: string[] = [];
    const logger = { info: (m: string) => lines.push(m), warn: () => undefined, error: () => undefined };
    const stop = startMemoryLog(logger, 10);
    await new Promise((resolve) => setTimeout(resolve, 100));
    stop();
    const logged = lines.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(logged).toBeGreaterThanOrEqual(2);
    expect(lines.length).toBe(logged);
    expect(lines.every((line) => line.startsWith('memory MiB: rss='))).toBe(true);
  });
});
