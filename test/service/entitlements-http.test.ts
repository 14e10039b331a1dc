/**
 * `GET /v1/customers/{id}/entitlements[/{key}]` on two instances of one app
 * on the run's real broker: auth, the current period's standing, one
 * entitlement by key, an unknown customer or key (404 with a clear message),
 * a customer whose partition the other instance holds (forwarded), and the
 * owner's answer from its HTTP front's committed replica while the
 * processing thread is blocked.
 */
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entitlementStoreNames } from '../../processors/index.js';
import { TaskId, partitionForKey } from '../../topology/index.js';
import { produce } from '../kafka/kafka-helpers.js';
import { minuteAgo, runServicePair, testTokens, usageEvent, type RunningService, type ServicePair, untilAnswer } from './service-fixtures.js';

const entitlement = { key: 'tokens-monthly', meter: 'tokens', limit: '100', alerts: [100] };
const customers = Array.from({ length: 8 }, (_, i) => ({ id: `cust-${i}`, subjects: [`user-${i}`], entitlements: [entitlement] }));
const idle = { id: 'idle', subjects: ['idle-1'], entitlements: [entitlement] };
const minute = minuteAgo(10);
/** Tokens used by customer i: 60 + i, so each answer is its own. */
const usedBy = (i: number): number => 60 + i;

let pair: ServicePair | undefined;
let a: RunningService;
let b: RunningService;

beforeAll(async () => {
  pair = await runServicePair('entitlements-http', 4, [...customers, idle], ['meter-tokens', entitlementStoreNames.usage]);
  ({ a, b } = pair);
  const events = customers.map((c, i) => usageEvent({ id: `e-${i}`, subject: c.subjects[0] as string, timeMs: minute, data: { tokens: usedBy(i), concurrency: 1 } }));
  expect((await a.api.post('/v1/events', JSON.stringify(events))).body).toEqual({ accepted: events.length, rejected: [] });
});

afterAll(async () => {
  await pair?.close();
});

/** The index of a customer whose entitlement task runs on `on`. */
function customerHeldBy(on: RunningService): number {
  const tasks = a.service.app.storeTaskIds(entitlementStoreNames.usage);
  const subtopology = TaskId.parse(tasks[0] as string).subtopology;
  return customers.findIndex((c) => on.service.app.taskIds.includes(new TaskId(subtopology, partitionForKey(Buffer.from(c.id, 'utf8'), tasks.length)).key));
}

describe('GET /v1/customers/{id}/entitlements', () => {
  it('refuses a call without a token or with an unknown one', async () => {
    for (const token of [null, 'not-a-token']) {
      const answer = await a.api.get('/v1/customers/cust-0/entitlements', token);
      expect([answer.status, answer.body.error.code]).toEqual([401, 'unauthorized']);
      expect((await a.api.get('/v1/customers/cust-0/entitlements/tokens-monthly', token)).status).toBe(401);
    }
  });

  it("answers a customer held by the other instance with that instance's usage", async () => {
    // The assignment spreads all tasks, not each sub-topology's: ask the instance that does not hold the customer's task.
    const heldByB = customerHeldBy(b);
    const [asked, index] = heldByB >= 0 ? [a, heldByB] : [b, customerHeldBy(a)];
    expect(index).toBeGreaterThanOrEqual(0);
    const id = `cust-${index}`;
    const answer = await untilAnswer(`the entitlements of ${id} through the other instance`, () => asked.api.get(`/v1/customers/${id}/entitlements`), (x) => x.body?.entitlements?.[0]?.usage === String(usedBy(index)));
    expect(answer.body).toEqual({
      customerId: id,
      entitlements: [
        expect.objectContaining({ customerId: id, entitlement: 'tokens-monthly', meter: 'tokens', limit: '100', usage: String(usedBy(index)), remaining: String(100 - usedBy(index)), overage: '0', hasAccess: true }),
      ],
    });
    expect(Date.parse(answer.body.entitlements[0].periodStart)).toBeLessThanOrEqual(minute);
    expect(answer.body.entitlements[0].revision).toBeGreaterThanOrEqual(1);
    const one = await asked.api.get(`/v1/customers/${id}/entitlements/tokens-monthly`);
    expect([one.status, one.body]).toEqual([200, answer.body.entitlements[0]]);
    // The owner reads the declared entitlements' keys itself (no scan): the same answer.
    // Its HTTP front answers from committed state: the same once the owner's commit is in (one commit interval).
    const owner = asked === a ? b : a;
    const fromOwner = await untilAnswer(`the entitlements of ${id} from its owner`, () => owner.api.get(`/v1/customers/${id}/entitlements`), (x) => x.body?.entitlements?.[0]?.usage === String(usedBy(index)));
    expect(fromOwner.body).toEqual(answer.body);
  });

  it('answers a configured customer with no usage yet with its full allowance, revision 0', async () => {
    const answer = await a.api.get('/v1/customers/idle/entitlements/tokens-monthly');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ customerId: 'idle', entitlement: 'tokens-monthly', usage: '0', remaining: '100', overage: '0', hasAccess: true, revision: 0 });
  });

  it('is 404 with a clear message for a customer nobody knows, and for an entitlement the customer does not have', async () => {
    const unknown = await b.api.get('/v1/customers/nobody/entitlements');
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'customer-unknown']);
    expect(unknown.body.error.message).toContain('customer "nobody" is unknown: it is not in the config, not on the customers topic');
    expect((await a.api.get('/v1/customers/nobody/entitlements/tokens-monthly')).status).toBe(404);
    const noKey = await a.api.get('/v1/customers/idle/entitlements/gpt4');
    expect([noKey.status, noKey.body.error]).toEqual([404, { code: 'entitlement-unknown', message: 'customer "idle" has no entitlement "gpt4"; its entitlements are tokens-monthly' }]);
  });

  it('answers a customer added on the customers topic alone, before any usage, on either instance', async () => {
    const newco = { id: 'newco', subjects: ['newco-1'], timezone: 'UTC', currency: 'USD', billingAnchor: '2024-01-01', plan: 'pro', entitlements: [{ ...entitlement, limit: '250' }] };
    await produce((pair as ServicePair).config.topics.customers, [{ key: 'newco-1', value: JSON.stringify(newco) }]);
    for (const asked of [a, b]) {
      const answer = await untilAnswer('newco’s entitlements', () => asked.api.get('/v1/customers/newco/entitlements/tokens-monthly'), (x) => x.status === 200);
      expect(answer.body).toMatchObject({ customerId: 'newco', entitlement: 'tokens-monthly', limit: '250', usage: '0', remaining: '250', hasAccess: true, revision: 0 });
    }
  });

  it("is answered by the owner's HTTP front from committed state while the processing thread is blocked; a read forwarded to the owner waits for it", async () => {
    const [owner, other, index] = customerHeldBy(a) >= 0 ? [a, b, customerHeldBy(a)] : [b, a, customerHeldBy(b)];
    const id = `cust-${index}`;
    const expected = await untilAnswer(`the entitlements of ${id}`, () => owner.api.get(`/v1/customers/${id}/entitlements`), (x) => x.body?.entitlements?.[0]?.usage === String(usedBy(index)));
    const blockMs = 1_500;
    // The calls come from a thread of their own: this thread, which runs the pipelines, is about to stop.
    const calls = [`${owner.service.url}/v1/customers/${id}/entitlements`, `${owner.service.url}/v1/customers/${id}/entitlements/tokens-monthly`, `${other.service.url}/v1/customers/${id}/entitlements`];
    // The client says it is ready, waits for the go this thread gives as it stops, then calls.
    const go = new Int32Array(new SharedArrayBuffer(4));
    const client = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       parentPort.postMessage('ready');
       Atomics.wait(workerData.go, 0, 0);
       const started = Date.now();
       Promise.all(workerData.calls.map(async (url) => {
         const answer = await fetch(url, { headers: { authorization: 'Bearer ' + workerData.token } });
         return { status: answer.status, body: await answer.json(), ms: Date.now() - started };
       })).then((answers) => parentPort.postMessage(answers));`,
      { eval: true, workerData: { token: testTokens[0], calls, go } },
    );
    const failed = new Promise<never>((_, reject) => client.once('error', reject));
    const next = (): Promise<unknown> => Promise.race([failed, new Promise((resolve) => client.once('message', resolve))]);
    expect(await next()).toBe('ready');
    const answers = next();
    Atomics.store(go, 0, 1);
    Atomics.notify(go, 0);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, blockMs);
    const [all, one, forwarded] = (await answers) as { status: number; body: any; ms: number }[];
    await client.terminate();
    expect([all?.status, all?.body]).toEqual([200, expected.body]);
    expect([one?.status, one?.body]).toEqual([200, expected.body.entitlements[0]]);
    // Answered well inside the block (the client starts a moment after this thread stops).
    expect(all?.ms).toBeLessThan(blockMs / 3);
    expect(one?.ms).toBeLessThan(blockMs / 3);
    // Asked of the other instance, the read goes through its processing thread (this one) to the owner: answered only after the block.
    expect([forwarded?.status, forwarded?.body]).toEqual([200, expected.body]);
    expect(forwarded?.ms).toBeGreaterThanOrEqual(blockMs - blockMs / 3);
  });
});
