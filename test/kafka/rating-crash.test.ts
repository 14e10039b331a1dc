/**
 * Rating end to end under crashes (exactly-once, child process): events in,
 * billing details out, the metering+rating app SIGKILLed twice while input
 * flows — restarted once on the same state dir, once on an empty one. The
 * latest billing detail per key must carry exactly the quantity and amount
 * computed independently from the input (rating-truth.ts), and every key's
 * committed revisions must strictly increase (no replayed emission).
 */
import { rm } from 'node:fs/promises';
import type { Message } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { AppProcess, killAllAppProcesses } from './app-process.js';
import { kafkaClient, produce, tempStateDir, uniqueName } from './kafka-helpers.js';
import { customerTableRecords } from '../../processors/index.js';
import { configDocument, eventually, onCleanup, runCleanups, TopicTail, uniqueTopics, type MeteringTopics } from './metering-fixtures.js';
import { mapDiff, sameMap } from './metering-truth.js';
import { generateTokenEvents, ratingMeter, ratingPlan, ratingTruth, testCustomers, type DetailTruth, type TestCustomer } from './rating-truth.js';

afterEach(async () => {
  await killAllAppProcesses();
  await runCleanups();
});

const minuteMs = 60_000;
const eventPartitions = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stateDir(): Promise<string> {
  const dir = await tempStateDir();
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function ratingDocument(appId: string, dir: string, topics: MeteringTopics, customers: readonly TestCustomer[]): Record<string, unknown> {
  return { ...configDocument({ appId, stateDir: dir, topics }), meters: [ratingMeter], customers, plans: [ratingPlan] };
}

function startRatingProcess(name: string, document: Record<string, unknown>): AppProcess {
  return new AppProcess(name, 'metering-app', { document, sessionTimeoutMs: 6_000 });
}

/**
 * The input topics; the customers topic with as many partitions as the events
 * topic (it is co-partitioned with the subject-keyed repartition topic).
 */
async function createRatingTopics(topics: MeteringTopics): Promise<void> {
  const compact = [{ name: 'cleanup.policy', value: 'compact' }];
  const retain = [{ name: 'retention.ms', value: '-1' }];
  const wanted = [
    { topic: topics.events, numPartitions: eventPartitions, configEntries: retain },
    { topic: topics.customers, numPartitions: eventPartitions, configEntries: compact },
    { topic: topics.billing, numPartitions: 3, configEntries: compact },
    { topic: topics.meters, numPartitions: 3, configEntries: compact },
    { topic: topics.late, numPartitions: 1, configEntries: retain },
    { topic: topics.deadLetter, numPartitions: 1, configEntries: retain },
  ];
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: wanted.map((t) => ({ ...t, replicationFactor: 1 })), waitForLeaders: false });
    const names = wanted.map((t) => t.topic);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const led = await admin.fetchTopicMetadata({ topics: names }).then(
        ({ topics: described }) => described.length === names.length && described.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)),
        () => false,
      );
      if (led) break;
      if (Date.now() > deadline) throw new Error(`topics ${names.join(', ')} have no leaders after 30 s`);
      await sleep(100);
    }
  } finally {
    await admin.disconnect();
  }
}

/** Sends `messages` in chunks every `intervalMs`; `sent()` is how many went so far. */
function produceSteadily(topic: string, messages: Message[], chunk: number, intervalMs: number): { done: Promise<void>; sent: () => number } {
  let sent = 0;
  const done = (async () => {
    for (let i = 0; i < messages.length; i += chunk) {
      await produce(topic, messages.slice(i, i + chunk));
      sent = Math.min(messages.length, i + chunk);
      await sleep(intervalMs);
    }
  })();
  return { done, sent: () => sent };
}

interface Detail {
  readonly customerId: string;
  readonly charge: string;
  readonly periodStart: string;
  readonly quantity: string;
  readonly amount: string;
  readonly status: string;
  readonly revision: number;
  readonly currency: string;
  readonly timezone: string;
}

function latestDetails(tail: TopicTail): Map<string, DetailTruth> {
  return new Map([...tail.latest<Detail>()].map(([key, d]) => [key, { quantity: d.quantity, amount: d.amount }]));
}

/** Keys whose committed revision ever stayed or went back, or skipped (documented: 1, then + 1 per record). */
function revisionProblems(records: readonly { key: string | null; value: string | null }[]): { regressions: string[]; gaps: string[] } {
  const last = new Map<string, number>();
  const regressions: string[] = [];
  const gaps: string[] = [];
  for (const r of records) {
    if (r.key === null) continue;
    const { revision } = JSON.parse(r.value ?? '{}') as { revision: number };
    const before = last.get(r.key) ?? 0;
    if (revision <= before) regressions.push(`${r.key}: ${before} then ${revision}`);
    else if (revision !== before + 1) gaps.push(`${r.key}: ${before} then ${revision}`);
    last.set(r.key, revision);
  }
  return { regressions, gaps };
}

describe('the rating pipeline under crashes (exactly-once, child process)', () => {
  it('SIGKILLed twice while usage flows, the billing details end exactly at the independently computed totals', { timeout: 180_000 }, async () => {
    const topics = uniqueTopics('rating-crash');
    const appId = uniqueName('rating-crash');
    await createRatingTopics(topics);
    const billing = await TopicTail.start(topics.billing);
    const deadLetters = await TopicTail.start(topics.deadLetter);
    onCleanup(async () => {
      await billing.stop();
      await deadLetters.stop();
    });

    const nowMs = Date.now();
    const customers = testCustomers(nowMs, uniqueName('cust'));
    // Seed the customers table (key = subject) before the app starts.
    const seed = customerTableRecords({ customers });
    expect(seed.length).toBe(4);
    await produce(topics.customers, seed.map(({ key, value }) => ({ key, value: JSON.stringify(value) })));

    const fromMs = Math.floor((nowMs - 20 * minuteMs) / minuteMs) * minuteMs;
    const subjects = customers.flatMap((c) => c.subjects);
    const events = generateTokenEvents({ count: 2000, subjects, fromMs, toMs: fromMs + 10 * minuteMs, seed: 7, idPrefix: 'r' });
    const messages: Message[] = events.map((e, i) => ({ key: `k-${i}`, value: JSON.stringify(e) }));
    // 5% duplicates, resent a little later (a producer retrying).
    for (let i = 0; i < events.length; i += 20) messages.splice(Math.min(messages.length, i + 150 + (i % 7)), 0, { key: `dup-${i}`, value: JSON.stringify(events[i]) });
    const expected = ratingTruth(events, customers);
    expect(expected.size).toBe(4);

    const dir = await stateDir();
    let app = startRatingProcess('rating-0', ratingDocument(appId, dir, topics, customers));
    await app.waitForLine(/^ready$/, 60_000);
    const input = produceSteadily(topics.events, messages, 30, 400);
    const sentAtCrash: number[] = [];
    for (const [crash, nextDir] of [
      [1, dir], // same state dir: local state is invalid after an unclean stop and is restored
      [2, await stateDir()], // empty state dir: restored from the changelogs alone
    ] as const) {
      await sleep(2_500 + Math.floor(Math.random() * 1_500));
      sentAtCrash.push(input.sent());
      await app.crash();
      app = startRatingProcess(`rating-${crash}`, ratingDocument(appId, nextDir, topics, customers));
      await app.waitForLine(/^ready$/, 60_000);
    }
    await input.done;
    // Both crashes must have hit while usage was still flowing, or this test proves less than it says.
    expect(sentAtCrash.every((n) => n > 0 && n < messages.length), `messages sent at the crashes: ${sentAtCrash.join(', ')} of ${messages.length}`).toBe(true);

    await eventually(
      'the latest billing details to equal the truth',
      () => sameMap(expected, latestDetails(billing)),
      () => `${mapDiff(expected, latestDetails(billing))}\nbilling records: ${billing.records.length}\nlast app lines:\n${app.lines.slice(-15).join('\n')}`,
      75_000,
    );
    const latest = billing.latest<Detail>();
    for (const d of latest.values()) {
      expect(d.status).toBe('provisional');
      expect(d.currency).toBe('USD');
    }
    const { regressions, gaps } = revisionProblems(billing.records);
    expect(regressions).toEqual([]);
    expect(gaps).toEqual([]);
    expect(deadLetters.records).toEqual([]);
    expect(app.lines.some((l) => l.startsWith('failed'))).toBe(false);
  });
});
