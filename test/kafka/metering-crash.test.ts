/**
 * Crash/restart of the metering topology (exactly-once) as a real child
 * process: SIGKILLed twice while input flows — the second restart with an
 * empty state dir, so it rebuilds from the changelogs alone. The committed
 * meters must end exactly at the truth computed from the input (no loss, no
 * double count, duplicates once), every key's event count must only ever
 * grow, and every dead letter must be there exactly once.
 */
import { rm } from 'node:fs/promises';
import type { Message } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { AppProcess, killAllAppProcesses } from './app-process.js';
import { produce, tempStateDir, uniqueName } from './kafka-helpers.js';
import { configDocument, createMeteringTopics, deadLetterKey, eventually, malformedRecords, onCleanup, publishedMeters, runCleanups, tailOutputs, uniqueTopics, type MeteringTopics } from './metering-fixtures.js';
import { generateEvents, mapDiff, meterTruth, sameMap } from './metering-truth.js';

afterEach(async () => {
  await killAllAppProcesses();
  await runCleanups();
});

const minuteMs = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stateDir(): Promise<string> {
  const dir = await tempStateDir();
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function startMeteringProcess(name: string, appId: string, topics: MeteringTopics, dir: string): AppProcess {
  return new AppProcess(name, 'metering-app', { document: configDocument({ appId, stateDir: dir, topics }), sessionTimeoutMs: 6_000 });
}

/** Sends `messages` in chunks every `intervalMs`. */
function produceSteadily(topic: string, messages: Message[], chunk: number, intervalMs: number): Promise<void> {
  return (async () => {
    for (let i = 0; i < messages.length; i += chunk) {
      await produce(topic, messages.slice(i, i + chunk));
      await sleep(intervalMs);
    }
  })();
}

/** Keys whose committed event count ever stayed or went back: a replayed or lost update. */
function countRegressions(records: readonly { key: string | null; value: string | null }[]): string[] {
  const last = new Map<string, number>();
  const regressions: string[] = [];
  for (const r of records) {
    if (r.key === null) continue;
    const { count } = JSON.parse(r.value ?? '{}') as { count: number };
    const before = last.get(r.key);
    if (before !== undefined && count <= before) regressions.push(`${r.key}: ${before} then ${count}`);
    last.set(r.key, count);
  }
  return regressions;
}

describe('the metering pipeline under crashes (exactly-once, child process)', () => {
  it('SIGKILLed twice while input flows, ends exactly at the truth with duplicates counted once', { timeout: 240_000 }, async () => {
    const topics = uniqueTopics('crash');
    const appId = uniqueName('metering-crash');
    await createMeteringTopics(topics, 4);
    const outputs = await tailOutputs(topics);

    const nowMs = Date.now();
    const fromMs = Math.floor((nowMs - 20 * minuteMs) / minuteMs) * minuteMs;
    const events = generateEvents({ count: 4000, subjects: 25, fromMs, toMs: fromMs + 10 * minuteMs, seed: 99, idPrefix: 'c' });
    const messages: Message[] = events.map((e, i) => ({ key: `k-${i}`, value: JSON.stringify(e) }));
    // 5% duplicates, resent a little later (a producer retrying), and a few malformed records.
    for (let i = 0; i < events.length; i += 20) messages.splice(Math.min(messages.length, i + 150 + (i % 7)), 0, { key: `dup-${i}`, value: JSON.stringify(events[i]) });
    const bad = malformedRecords(nowMs, 'customer-3');
    bad.forEach((b, i) => messages.splice(400 * (i + 1), 0, { key: `bad-${i}`, value: b.value }));

    const dir = await stateDir();
    let app = startMeteringProcess('metering-0', appId, topics, dir);
    await app.waitForLine(/^ready$/, 90_000);
    const input = produceSteadily(topics.events, messages, 150, 300);
    for (const [crash, nextDir] of [
      [1, dir], // same state dir: local state is invalid after an unclean stop and is restored
      [2, await stateDir()], // empty state dir: restored from the changelogs alone
    ] as const) {
      await sleep(2_500 + Math.floor(Math.random() * 1_500));
      await app.crash();
      app = startMeteringProcess(`metering-${crash}`, appId, topics, nextDir);
      await app.waitForLine(/^ready$/, 90_000);
    }
    await input;

    const expected = meterTruth(events);
    await eventually('the committed meters to equal the truth', () => sameMap(expected, publishedMeters(outputs.meters)), () => `${mapDiff(expected, publishedMeters(outputs.meters))}\nlast app lines:\n${app.lines.slice(-15).join('\n')}`, 90_000);
    expect(countRegressions(outputs.meters.records)).toEqual([]);
    await eventually('every dead letter', () => outputs.deadLetters.records.length >= bad.length, () => `got ${outputs.deadLetters.records.length} of ${bad.length}`, 30_000);
    const deadLetters = outputs.deadLetters.parsed<{ reason: string; value: string | null }>().map((v) => deadLetterKey(v.reason, v.value === null ? null : Buffer.from(v.value, 'base64')));
    expect(deadLetters.sort()).toEqual(bad.map((b) => deadLetterKey(b.reason, b.value)).sort());
    expect(outputs.late.records).toEqual([]);
    expect(app.lines.some((l) => l.startsWith('failed'))).toBe(false);
  });
});
