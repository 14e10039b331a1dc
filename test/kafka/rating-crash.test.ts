/**
 * Rating end to end under crashes (exactly-once, child process): events in,
 * billing details out, the metering+rating app SIGKILLed twice while input
 * flows — restarted once on the same state dir, once on an empty one. The
 * latest billing detail per key must carry exactly the quantity and amount
 * computed independently from the input (rating-truth.ts), and every key's
 * committed revisions must strictly increase (no replayed emission).
 */
import type { Message } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { killAllAppProcesses } from './app-process.js';
import { produce, uniqueName } from './kafka-helpers.js';
import { customerTableRecords } from '../../processors/index.js';
import { eventually, onCleanup, runCleanups, TopicTail, uniqueTopics } from './metering-fixtures.js';
import { mapDiff, sameMap } from './metering-truth.js';
import { createRatingTopics, latestDetails, minuteMs, produceSteadily, ratingDocument, revisionProblems, sleep, startRatingProcess, stateDir, type Detail } from './rating-crash-fixtures.js';
import { generateTokenEvents, ratingTruth, testCustomers } from './rating-truth.js';

afterEach(async () => {
  await killAllAppProcesses();
  await runCleanups();
});

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
