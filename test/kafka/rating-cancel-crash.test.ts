/**
 * A cancellation on the customers topic after a customer's last usage, under
 * a crash (exactly-once, child process): usage flows and is billed for the
 * whole period; then the customer's rows are rewritten with a `cancelledAt`
 * and the app is SIGKILLed shortly after and restarted. No usage follows the
 * change, yet the latest details must end at `cancelledAt`, with the
 * `per_unit` flat fee prorated to the shortened segment (computed
 * independently, rating-subscription-truth.ts), the invoice must total them,
 * and committed revisions must go up by one per record.
 */
import type { Message } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import type { BillingDetailRecord } from '../../schemas/billing-detail.js';
import type { InvoiceRecord } from '../../schemas/invoice.js';
import { customerTableRecords } from '../../processors/index.js';
import type { CustomerConfig } from '../../schemas/config-types.js';
import { killAllAppProcesses } from './app-process.js';
import { produce, uniqueName } from './kafka-helpers.js';
import { eventually, onCleanup, runCleanups, TopicTail, uniqueTopics } from './metering-fixtures.js';
import type { CloudEvent } from './metering-truth.js';
import { mapDiff, sameMap } from './metering-truth.js';
import { createRatingTopics, expectCleanBilling, latestDetails, minuteMs, ratingDocument, sleep, startRatingProcess, stateDir } from './rating-crash-fixtures.js';
import { format, generateTokenEvents, graduatedAmount, toScaled, type DetailTruth } from './rating-truth.js';
import { proratedPerUnitAmount, subscriptionCase } from './rating-subscription-truth.js';

afterEach(async () => {
  await killAllAppProcesses();
  await runCleanups();
});

const customerMessages = (row: Record<string, unknown>): Message[] =>
  customerTableRecords({ customers: [row as unknown as CustomerConfig] }).map(({ key, value }) => ({ key, value: JSON.stringify(value) }));

/** Sum of the distinct (source, id) events' tokens, in thousandths. */
function distinctTokensMilli(events: readonly CloudEvent[]): bigint {
  const seen = new Set<string>();
  let milli = 0n;
  for (const e of events) {
    if (seen.has(`${e.source}\u0000${e.id}`)) continue;
    seen.add(`${e.source}\u0000${e.id}`);
    milli += toScaled(e.data['tokens'], 3);
  }
  return milli;
}

describe('a customer cancelled on the customers topic after its last usage, under a crash (exactly-once, child process)', () => {
  it('ends with details cut at cancelledAt and a prorated flat fee, with no usage after the change', { timeout: 180_000 }, async () => {
    const topics = uniqueTopics('rating-cancel');
    const appId = uniqueName('rating-cancel');
    await createRatingTopics(topics);
    const tails = { billing: await TopicTail.start(topics.billing), invoices: await TopicTail.start(topics.invoices), deadLetters: await TopicTail.start(topics.deadLetter) };
    onCleanup(async () => {
      for (const tail of Object.values(tails)) await tail.stop();
    });

    const nowMs = Date.now();
    const fromMs = Math.floor((nowMs - 20 * minuteMs) / minuteMs) * minuteMs;
    const cancelledMs = fromMs + 10 * minuteMs; // after the last usage (fromMs + 5 min), before now: closes at cancelledAt + 1 h
    const c = subscriptionCase(uniqueName('cust'), nowMs, cancelledMs);
    const cancelled = { ...c.before, cancelledAt: new Date(cancelledMs).toISOString() };
    await produce(topics.customers, customerMessages(c.before));

    const events = generateTokenEvents({ count: 600, subjects: c.subjects, fromMs, toMs: fromMs + 5 * minuteMs, seed: 21, idPrefix: 'c1' });
    const milli = distinctTokensMilli(events);
    const periodMs = c.periodEndMs - c.periodStartMs;
    const periodStart = new Date(c.periodStartMs).toISOString();
    const truth = (segmentMs: number) =>
      new Map<string, DetailTruth>([
        [`${c.id}|base|${periodStart}`, { quantity: format(milli, 3), amount: format(proratedPerUnitAmount(milli, '5', '0.001', segmentMs, periodMs), 7) }],
        [`${c.id}|tiered|${periodStart}`, { quantity: format(milli, 3), amount: format(graduatedAmount(milli), 7) }],
      ]);

    const dir = await stateDir();
    let app = startRatingProcess('rating-cancel-0', ratingDocument(appId, dir, topics, [c.before]));
    await app.waitForLine(/^ready$/, 60_000);
    await produce(topics.events, events.map((e, i) => ({ key: `e-${i}`, value: JSON.stringify(e) })));
    const whole = truth(periodMs);
    await eventually('the whole period to be billed', () => sameMap(whole, latestDetails(tails.billing)), () => mapDiff(whole, latestDetails(tails.billing)), 60_000);

    await produce(topics.customers, customerMessages(cancelled));
    await sleep(Math.floor(Math.random() * 1_500));
    await app.crash();
    app = startRatingProcess('rating-cancel-1', ratingDocument(appId, dir, topics, [cancelled]));
    await app.waitForLine(/^ready$/, 60_000);

    const cut = truth(cancelledMs - c.periodStartMs);
    await eventually('the details to end at cancelledAt', () => sameMap(cut, latestDetails(tails.billing)), () => `${mapDiff(cut, latestDetails(tails.billing))}\nlast app lines:\n${app.lines.slice(-15).join('\n')}`, 60_000);
    const details = [...tails.billing.latest<BillingDetailRecord>().values()];
    expect(details.map((d) => [d.periodEnd, d.billingPeriodEnd, d.status])).toEqual(details.map(() => [cancelled.cancelledAt, new Date(c.periodEndMs).toISOString(), 'provisional']));
    const total = format(proratedPerUnitAmount(milli, '5', '0.001', cancelledMs - c.periodStartMs, periodMs) + graduatedAmount(milli), 7);
    const invoiceOf = () => tails.invoices.latest<InvoiceRecord>().get(`${c.id}|${periodStart}`);
    await eventually('the invoice to total the cut details', () => invoiceOf()?.total === total, () => JSON.stringify(invoiceOf()), 30_000);
    expectCleanBilling(tails, app.lines);
  });
});
