/**
 * Two instances of one app (separate state dirs and ports) share the tasks;
 * each answers queries for data the other holds by fetching it from its
 * owner, and queries over every subject merge both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ratingStoreNames } from '../../processors/index.js';
import { TaskId, partitionForKey } from '../../topology/index.js';
import { minuteAgo, minuteMs, runServicePair, usageEvent, type ApiAnswer, type RunningService, type ServicePair, untilAnswer } from './service-fixtures.js';

const subjects = Array.from({ length: 12 }, (_, i) => `user-${i}`);
const customers = subjects.map((subject, i) => ({ id: `cust-${i}`, subjects: [subject] }));
/** Tokens of subject i: i + 1, 10 and 100, so every subject has its own sum. */
const tokensOf = (i: number): number[] => [i + 1, 10, 100];
const sumOf = (i: number): string => String(tokensOf(i).reduce((a, b) => a + b, 0));
const minute = minuteAgo(10);
const iso = (ms: number): string => new Date(ms).toISOString();
const range = `from=${iso(minute)}&to=${iso(minute + minuteMs)}`;

let pair: ServicePair | undefined;
let a: RunningService;
let b: RunningService;

/** The partition a key lands in, among `count`. */
const partitionOf = (key: string, count: number): number => partitionForKey(Buffer.from(key, 'utf8'), count);

beforeAll(async () => {
  pair = await runServicePair('routing', 4, customers, ['meter-tokens', ratingStoreNames.details]);
  ({ a, b } = pair);
  const events = subjects.flatMap((subject, i) => tokensOf(i).map((tokens, n) => usageEvent({ id: `${subject}-${n}`, subject, timeMs: minute + n * 1_000, data: { tokens, concurrency: 1 } })));
  expect((await a.api.post('/v1/events', JSON.stringify(events))).body).toEqual({ accepted: events.length, rejected: [] });
});

afterAll(async () => {
  await pair?.close();
});

/** Waits until the answer is 200 with exactly `expected`. */
function until(what: string, call: () => Promise<ApiAnswer>, expected: unknown): Promise<ApiAnswer> {
  return untilAnswer(what, call, (answer) => answer.status === 200 && JSON.stringify(answer.body) === JSON.stringify(expected));
}

describe('queries across two instances', () => {
  it("answers a subject held by the other instance with the other instance's data", async () => {
    const meterTasks = a.service.app.storeTaskIds('meter-tokens');
    const index = subjects.findIndex((subject) => b.service.app.taskIds.includes(new TaskId(TaskId.parse(meterTasks[0] as string).subtopology, partitionOf(subject, meterTasks.length)).key));
    expect(index).toBeGreaterThanOrEqual(0);
    const subject = subjects[index] as string;
    const row = { windowStart: iso(minute), windowEnd: iso(minute + minuteMs), subject, groupBy: {}, value: sumOf(index) };
    await until(`A's answer for ${subject} (held by B)`, () => a.api.get(`/v1/meters/tokens/query?${range}&subject=${subject}`), {
      meter: 'tokens', from: row.windowStart, to: row.windowEnd, windowSize: null, windowTimeZone: 'UTC', data: [row],
    });
  });

  it('merges both instances in a query over every subject, from either instance', async () => {
    const rows = subjects
      .map((subject, i) => ({ windowStart: iso(minute), windowEnd: iso(minute + minuteMs), subject, groupBy: {}, value: sumOf(i) }))
      .sort((x, y) => (x.subject < y.subject ? -1 : 1));
    const expected = { meter: 'tokens', from: iso(minute), to: iso(minute + minuteMs), windowSize: null, windowTimeZone: 'UTC', data: rows };
    await until('A merging every subject', () => a.api.get(`/v1/meters/tokens/query?${range}&groupBy=subject`), expected);
    await until('B merging every subject', () => b.api.get(`/v1/meters/tokens/query?${range}&groupBy=subject`), expected);
    const total = String(subjects.reduce((sum, _, i) => sum + Number(sumOf(i)), 0));
    await until('the total over every subject', () => a.api.get(`/v1/meters/tokens/query?${range}`), { ...expected, data: [{ windowStart: iso(minute), windowEnd: iso(minute + minuteMs), subject: null, groupBy: {}, value: total }] });
  });

  it("answers billing for a customer rated on the other instance", async () => {
    const ratingTasks = a.service.app.storeTaskIds(ratingStoreNames.details);
    const index = customers.findIndex((c) => b.service.app.taskIds.includes(new TaskId(TaskId.parse(ratingTasks[0] as string).subtopology, partitionOf(c.id, ratingTasks.length)).key));
    expect(index).toBeGreaterThanOrEqual(0);
    const customer = customers[index] as { id: string };
    const last = await untilAnswer(`A's billing answer for ${customer.id} (rated on B)`, () => a.api.get(`/v1/customers/${customer.id}/billing`), (answer) => answer.body?.charges?.[0]?.quantity === sumOf(index));
    expect(last.body.charges).toEqual([expect.objectContaining({ customerId: customer.id, charge: 'tokens', quantity: sumOf(index), amount: String(Number(sumOf(index)) / 2) })]);
  });
});
