/**
 * Failure tests against the real broker, modelled on Kafka Streams' EOS system
 * test: app processes are killed, join, leave and stall while input flows;
 * afterwards the read_committed output must equal the ground truth computed
 * from the input, exactly, with every key's values strictly increasing (a
 * record processed twice would repeat or overshoot a count).
 */
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { AppProcess, killAllAppProcesses } from './app-process.js';
import { brokers, createTopics, produce, readTopic, tempStateDir, uniqueName, waitFor } from './kafka-helpers.js';

const windowMs = 10_000;
const baseTimeMs = Date.UTC(2024, 0, 1);

interface Setup {
  readonly appId: string;
  readonly input: string;
  readonly output: string;
  readonly dirs: string[];
}

async function setup(partitions = 4): Promise<Setup> {
  const s = { appId: uniqueName('eos'), input: uniqueName('in'), output: uniqueName('out'), dirs: [] as string[] };
  await createTopics({ [s.input]: partitions, [s.output]: partitions, [`${s.output}-late`]: partitions });
  return s;
}

const cleanups: Setup[] = [];
afterEach(async () => {
  await killAllAppProcesses();
  for (const s of cleanups.splice(0)) for (const dir of s.dirs) await rm(dir, { recursive: true, force: true });
});

async function startApp(s: Setup, name: string, stateDir: string, extra: object = {}): Promise<AppProcess> {
  return new AppProcess(name, 'windowed-count-app', { brokers: brokers(), appId: s.appId, input: s.input, output: s.output, stateDir, ...extra });
}

async function stateDir(s: Setup): Promise<string> {
  const dir = await tempStateDir();
  s.dirs.push(dir);
  return dir;
}

interface Event {
  readonly key: string;
  readonly value: string;
  readonly timestamp: string;
}

/** Sends `total` events in chunks every `intervalMs`; event time advances 20 ms per event. */
function produceSteadily(topic: string, total: number, chunk: number, intervalMs: number): { events: Event[]; done: Promise<void> } {
  const events: Event[] = Array.from({ length: total }, (_, i) => ({ key: `k${i}`, value: `user-${i % 5}:${i}`, timestamp: String(baseTimeMs + i * 20) }));
  const done = (async () => {
    for (let i = 0; i < total; i += chunk) {
      await produce(topic, events.slice(i, i + chunk));
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return { events, done };
}

function truth(events: readonly Event[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of events) {
    const startMs = Math.floor(Number(e.timestamp) / windowMs) * windowMs;
    const key = JSON.stringify({ key: e.value.split(':')[0], startMs, endMs: startMs + windowMs });
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Latest committed count per window, failing if any key's counts do not strictly increase. */
async function committedCounts(topic: string): Promise<{ latest: Map<string, number>; regressions: string[] }> {
  const latest = new Map<string, number>();
  const regressions: string[] = [];
  for (const r of await readTopic(topic)) {
    const value = JSON.parse(r.value ?? 'null') as number;
    const key = r.key ?? '';
    if (value <= (latest.get(key) ?? 0)) regressions.push(`${key}: ${latest.get(key)} then ${value}`);
    latest.set(key, value);
  }
  return { latest, regressions };
}

async function expectExactly(topic: string, expected: Map<string, number>): Promise<void> {
  let result = { latest: new Map<string, number>(), regressions: [] as string[] };
  await waitFor(`committed output of ${topic} to equal the truth`, async () => {
    result = await committedCounts(topic);
    return result.latest.size === expected.size && [...expected].every(([k, n]) => result.latest.get(k) === n);
  }, 90_000).catch(() => undefined);
  expect(result.regressions).toEqual([]);
  expect(Object.fromEntries([...result.latest].sort())).toEqual(Object.fromEntries([...expected].sort()));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('exactly-once under failures', () => {
  it('a windowed count SIGKILLed at random points, repeatedly, while input flows, ends exactly at the truth', { timeout: 180_000 }, async () => {
    const s = await setup();
    cleanups.push(s);
    const dir = await stateDir(s);
    const input = produceSteadily(s.input, 3000, 100, 250);
    let app = await startApp(s, 'app-0', dir);
    for (let crash = 1; crash <= 4; crash++) {
      await sleep(800 + Math.floor(Math.random() * 1500));
      await app.crash();
      // Every other restart also loses its local state: restoration from the changelog alone.
      const nextDir = crash % 2 === 0 ? await stateDir(s) : dir;
      app = await startApp(s, `app-${crash}`, nextDir);
    }
    await input.done;
    await expectExactly(s.output, truth(input.events));
  });

  it('instances joining and leaving mid-stream share the work and lose or repeat nothing', { timeout: 180_000 }, async () => {
    const s = await setup(6);
    cleanups.push(s);
    const input = produceSteadily(s.input, 3000, 100, 250);
    const a = await startApp(s, 'a', await stateDir(s));
    const b = await startApp(s, 'b', await stateDir(s));
    await a.waitForLine(/^ready$/);
    await b.waitForLine(/^ready$/);
    await sleep(1500);
    const c = await startApp(s, 'c', await stateDir(s));
    await waitFor('c to run tasks', () => c.tasks.length > 0, 60_000);
    await sleep(1000);
    expect(await a.stop()).toBe(0);
    await waitFor('b and c to run every task', () => new Set([...b.tasks, ...c.tasks]).size === 12, 60_000);
    await input.done;
    await expectExactly(s.output, truth(input.events));
  });

  it('a stalled instance whose tasks moved cannot commit: it is fenced and its work is redone once', { timeout: 180_000 }, async () => {
    const s = await setup(2);
    cleanups.push(s);
    const input = produceSteadily(s.input, 2000, 50, 100);
    // A long commit interval makes sure the zombie holds uncommitted work when it stalls.
    const zombie = await startApp(s, 'zombie', await stateDir(s), { commitIntervalMs: 3_000, sessionTimeoutMs: 6_000 });
    await zombie.waitForLine(/^ready$/);
    await sleep(1500);
    zombie.signal('SIGSTOP');
    const successor = await startApp(s, 'successor', await stateDir(s));
    await waitFor('the successor to own every task', () => successor.tasks.length === 4, 60_000);
    zombie.signal('SIGCONT');
    await zombie.waitForLine(/was fenced/, 60_000);
    await input.done;
    await expectExactly(s.output, truth(input.events));
  });
});
