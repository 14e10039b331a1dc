/**
 * Shared by the rating tests against a real broker that crash the app: the
 * topics, the config document, the child process, a steady producer, and
 * the checks on committed revisions.
 */
import { rm } from 'node:fs/promises';
import type { Message } from 'kafkajs';
import { expect } from 'vitest';
import { AppProcess } from './app-process.js';
import { produce, tempStateDir } from './kafka-helpers.js';
import { configDocument, createTopicsWithLeaders, onCleanup, type MeteringTopics, type TopicTail } from './metering-fixtures.js';
import { ratingMeter, ratingPlan, type DetailTruth } from './rating-truth.js';

export const minuteMs = 60_000;
export const eventPartitions = 4;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function stateDir(): Promise<string> {
  const dir = await tempStateDir();
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export function ratingDocument(appId: string, dir: string, topics: MeteringTopics, customers: readonly object[], plans: readonly object[] = [ratingPlan]): Record<string, unknown> {
  return { ...configDocument({ appId, stateDir: dir, topics }), meters: [ratingMeter], customers, plans };
}

export function startRatingProcess(name: string, document: Record<string, unknown>): AppProcess {
  return new AppProcess(name, 'metering-app', { document, sessionTimeoutMs: 6_000 });
}

/**
 * The input topics; the customers topic with as many partitions as the events
 * topic (it is co-partitioned with the subject-keyed repartition topic).
 */
export async function createRatingTopics(topics: MeteringTopics): Promise<void> {
  const compact = [{ name: 'cleanup.policy', value: 'compact' }];
  const retain = [{ name: 'retention.ms', value: '-1' }];
  const wanted = [
    { topic: topics.events, numPartitions: eventPartitions, configEntries: retain },
    { topic: topics.customers, numPartitions: eventPartitions, configEntries: compact },
    { topic: topics.billing, numPartitions: 3, configEntries: compact },
    { topic: topics.invoices, numPartitions: 3, configEntries: compact },
    { topic: topics.meters, numPartitions: 3, configEntries: compact },
    { topic: topics.late, numPartitions: 1, configEntries: retain },
    { topic: topics.deadLetter, numPartitions: 1, configEntries: retain },
  ];
  await createTopicsWithLeaders(wanted);
}

/** Sends `messages` in chunks every `intervalMs`; `sent()` is how many went so far. */
export function produceSteadily(topic: string, messages: Message[], chunk: number, intervalMs: number): { done: Promise<void>; sent: () => number } {
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

export interface Detail {
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

export function latestDetails(tail: TopicTail): Map<string, DetailTruth> {
  return new Map([...tail.latest<Detail>()].map(([key, d]) => [key, { quantity: d.quantity, amount: d.amount }]));
}

/** Keys whose committed revision ever stayed or went back, or skipped (documented: 1, then + 1 per record). */
export function revisionProblems(records: readonly { key: string | null; value: string | null }[]): { regressions: string[]; gaps: string[] } {
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

/** Every committed revision of details and invoices went up by one, nothing was dead-lettered, and the app never failed. */
export function expectCleanBilling(tails: { billing: TopicTail; invoices: TopicTail; deadLetters: TopicTail }, appLines: readonly string[]): void {
  for (const tail of [tails.billing, tails.invoices]) {
    const { regressions, gaps } = revisionProblems(tail.records);
    expect(regressions).toEqual([]);
    expect(gaps).toEqual([]);
  }
  expect(tails.deadLetters.records).toEqual([]);
  expect(appLines.some((l) => l.startsWith('failed'))).toBe(false);
}
