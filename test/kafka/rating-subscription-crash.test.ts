/**
 * Subscriptions end to end under a crash (exactly-once, child process): a
 * customer on `pro` is moved to `basic` from a boundary inside the current
 * period by a record on the customers topic while usage flows, then the app
 * is SIGKILLed and restarted while more usage (on both sides of the
 * boundary) flows. The latest billing details must be exactly the three
 * segment details computed independently (rating-subscription-truth.ts),
 * the latest invoice must hold them with the exact total, and the committed
 * revisions of details and invoices must go up by one per record.
 */
import type { Message } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import type { InvoiceRecord } from '../../schemas/invoice.js';
import { customerTableRecords } from '../../processors/index.js';
import type { CustomerConfig } from '../../schemas/config-types.js';
import { killAllAppProcesses } from './app-process.js';
import { produce, uniqueName } from './kafka-helpers.js';
import { eventually, onCleanup, runCleanups, TopicTail, uniqueTopics } from './metering-fixtures.js';
import { mapDiff, sameMap } from './metering-truth.js';
import { createRatingTopics, expectCleanBilling, latestDetails, minuteMs, produceSteadily, ratingDocument, sleep, startRatingProcess, stateDir } from './rating-crash-fixtures.js';
import { generateTokenEvents, ratingPlan } from './rating-truth.js';
import { basicPlan, subscriptionCase, subscriptionTruth } from './rating-subscription-truth.js';

afterEach(async () => {
  await killAllAppProcesses();
  await runCleanups();
});

const customerMessages = (row: Record<string, unknown>): Message[] =>
  customerTableRecords({ customers: [row as unknown as CustomerConfig] }).map(({ key, value }) => ({ key, value: JSON.stringify(value) }));

describe('a subscription changed on the customers topic, under a crash (exactly-once, child process)', () => {
  it('ends with the exact segment details and invoice after a SIGKILL and restart', { timeout: 180_000 }, async () => {
    const topics = uniqueTopics('rating-sub');
    const appId = uniqueName('rating-sub');
    await createRatingTopics(topics);
    const tails = {
      billing: await TopicTail.start(topics.billing),
      invoices: await TopicTail.start(topics.invoices),
      deadLetters: await TopicTail.start(topics.deadLetter),
    };
    onCleanup(async () => {
      for (const tail of Object.values(tails)) await tail.stop();
    });

    const nowMs = Date.now();
    const fromMs = Math.floor((nowMs - 20 * minuteMs) / minuteMs) * minuteMs;
    const boundaryMs = fromMs + 5 * minuteMs;
    const c = subscriptionCase(uniqueName('cust'), nowMs, boundaryMs);
    await produce(topics.customers, customerMessages(c.before));

    // Before the change: usage up to the boundary. After it: usage on both sides, and duplicates of the first.
    const first = generateTokenEvents({ count: 600, subjects: c.subjects, fromMs, toMs: boundaryMs, seed: 11, idPrefix: 's1' });
    const second = generateTokenEvents({ count: 900, subjects: c.subjects, fromMs, toMs: fromMs + 10 * minuteMs, seed: 12, idPrefix: 's2' });
    const secondMessages: Message[] = second.map((e, i) => ({ key: `b-${i}`, value: JSON.stringify(e) }));
    for (let i = 0; i < first.length; i += 25) secondMessages.splice(i, 0, { key: `dup-${i}`, value: JSON.stringify(first[i]) });
    const truth = subscriptionTruth([...first, ...second], c);

    const dir = await stateDir();
    const plans = [ratingPlan, basicPlan];
    let app = startRatingProcess('rating-sub-0', ratingDocument(appId, dir, topics, [c.before], plans));
    await app.waitForLine(/^ready$/, 60_000);
    const changelog = await TopicTail.start(`${appId}-customers-by-subject-changelog`);
    onCleanup(() => changelog.stop());

    const before = produceSteadily(topics.events, first.map((e, i) => ({ key: `a-${i}`, value: JSON.stringify(e) })), 30, 300);
    await sleep(2_000);
    await produce(topics.customers, customerMessages(c.after)); // while usage flows
    await before.done;
    // Every later event is joined with the new row once the table has committed it.
    await eventually('the customers table to hold the new subscriptions', () => changelog.records.filter((r) => r.value?.includes('"basic"') === true).length === c.subjects.length, () => `${changelog.records.length} changelog records`, 60_000);

    const after = produceSteadily(topics.events, secondMessages, 30, 300);
    await sleep(2_500 + Math.floor(Math.random() * 1_000));
    const sentAtCrash = after.sent();
    await app.crash();
    app = startRatingProcess('rating-sub-1', ratingDocument(appId, dir, topics, [c.after], plans));
    await app.waitForLine(/^ready$/, 60_000);
    await after.done;
    expect(sentAtCrash > 0 && sentAtCrash < secondMessages.length, `messages sent at the crash: ${sentAtCrash} of ${secondMessages.length}`).toBe(true);

    await eventually(
      'the latest billing details to equal the truth',
      () => sameMap(truth.details, latestDetails(tails.billing)),
      () => `${mapDiff(truth.details, latestDetails(tails.billing))}\nlast app lines:\n${app.lines.slice(-15).join('\n')}`,
      75_000,
    );
    const invoiceOf = () => tails.invoices.latest<InvoiceRecord>().get(truth.invoiceKey);
    await eventually('the invoice to total the details', () => invoiceOf()?.total === truth.invoiceTotal, () => JSON.stringify(invoiceOf()), 30_000);
    const invoice = invoiceOf() as InvoiceRecord;
    expect(invoice.status).toBe('draft');
    // Lines by segment start, then charge: pro's base and tiered before the boundary, basic's base after it.
    const plansOfLines = ['pro', 'pro', 'basic'];
    expect(invoice.lines.map((l) => `${l.plan} ${l.charge} ${l.periodStart} q=${l.quantity} a=${l.amount}`)).toEqual(
      [...truth.details].map(([key, d], i) => `${plansOfLines[i] ?? '?'} ${key.split('|')[1] ?? '?'} ${key.split('|')[2] ?? '?'} q=${d.quantity} a=${d.amount}`),
    );
    expect([...tails.invoices.latest<InvoiceRecord>().keys()]).toEqual([truth.invoiceKey]);
    expectCleanBilling(tails, app.lines);
  });
});
