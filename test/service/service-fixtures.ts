/**
 * Running the Tally service in a test: a config document with unique topics,
 * the topics themselves (`ensureTopics`), the service in process with its
 * log captured, a small client for its API, and a way to hold a task in
 * restoration (an open transaction on its changelog: a read_committed restore
 * cannot pass it until it is aborted).
 */
import { rm } from 'node:fs/promises';
import { parseConfig, type TallyConfig } from '../../schemas/index.js';
import { startService, type ServiceOptions, type TallyService } from '../../service/index.js';
import { ensureTopics } from '../../service/topics/index.js';
import { brokers, kafkaClient, tempStateDir, uniqueName, waitFor } from '../kafka/kafka-helpers.js';
import { uniqueTopics } from '../kafka/metering-fixtures.js';
import { testMeters } from '../kafka/metering-truth.js';

export const testTokens = ['service-test-token-1', 'service-test-token-2'] as const;

export const minuteMs = 60_000;

/** A customer of the test config: on plan pro, UTC, USD, periods from the 1st; entitlements as in tally.yaml. */
export interface ServiceCustomer {
  readonly id: string;
  readonly subjects: readonly string[];
  readonly entitlements?: readonly Record<string, unknown>[];
}

/** A tally.yaml as an object: the test meters, and customers on a per-unit plan (tokens at 0.5 USD). */
export function serviceDocument(options: { appId: string; stateDir: string; customers: readonly ServiceCustomer[] }): Record<string, unknown> {
  return {
    app: { id: options.appId, stateDir: options.stateDir, processingGuarantee: 'exactly_once', commitIntervalMs: 100 },
    kafka: { brokers: brokers() },
    topics: uniqueTopics(options.appId),
    ingest: { allowedLateness: 'PT1H', maxFutureSkew: 'PT5M', dedupeRetention: 'P1D' },
    windows: { size: 'PT1M', retention: 'P1D' },
    meters: testMeters,
    customers: options.customers.map((c) => ({ ...c, timezone: 'UTC', currency: 'USD', billingAnchor: '2024-01-01', plan: 'pro' })),
    plans: [{ key: 'pro', charges: [{ key: 'tokens', meter: 'tokens', model: 'per_unit', unitPrice: '0.5' }] }],
    http: { host: '127.0.0.1', port: 0, tokens: [...testTokens] },
  };
}

/** A fresh app id, state dir and config (also as the document, for a tally.yaml), with its six topics created (`partitions` each). */
export async function prepareServiceDocument(prefix: string, partitions: number, customers: readonly ServiceCustomer[]): Promise<{ config: TallyConfig; document: Record<string, unknown> }> {
  const appId = uniqueName(prefix);
  const document = serviceDocument({ appId, stateDir: await tempStateDir(), customers });
  const config = parseConfig(JSON.stringify(document), `${prefix} tally.yaml`);
  await ensureTopics(config, { create: true, partitions });
  return { config, document };
}

export async function prepareService(prefix: string, partitions: number, customers: readonly ServiceCustomer[]): Promise<TallyConfig> {
  return (await prepareServiceDocument(prefix, partitions, customers)).config;
}

/** Same config, another state dir: a second instance of the same app. */
export function withStateDir(config: TallyConfig, stateDir: string): TallyConfig {
  return { ...config, app: { ...config.app, stateDir } };
}

export interface RunningService {
  readonly service: TallyService;
  readonly logs: string[];
  readonly api: ApiClient;
}

export async function runService(config: TallyConfig, options: ServiceOptions = {}): Promise<RunningService> {
  const logs: string[] = [];
  const log = (level: string) => (message: string) => logs.push(`${new Date().toISOString()} ${level} ${message}`);
  const service = await startService(config, { logger: { info: log('info'), warn: log('warn'), error: log('error') }, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000, ...options });
  return { service, logs, api: apiClient(service.url, testTokens[0]) };
}

/** Two instances of one app, each with a state dir of its own. */
export interface ServicePair {
  readonly a: RunningService;
  readonly b: RunningService;
  /** The first instance's config (the second differs only in its state dir). */
  readonly config: TallyConfig;
  /** Stops both and removes their state dirs. */
  close(): Promise<void>;
}

/**
 * Starts instance a, then b, and waits until each runs a share of the tasks
 * (none twice, together all of those of the sub-topologies holding `storeNames`).
 */
export async function runServicePair(prefix: string, partitions: number, customers: readonly ServiceCustomer[], storeNames: readonly string[]): Promise<ServicePair> {
  const configA = await prepareService(prefix, partitions, customers);
  const configB = withStateDir(configA, await tempStateDir());
  const started: RunningService[] = [];
  const close = async (): Promise<void> => {
    for (const running of started.reverse()) await running.service.close();
    await removeStateDir(configA);
    await removeStateDir(configB);
  };
  try {
    const a = await runService(configA);
    started.push(a);
    await a.service.ready;
    const b = await runService(configB);
    started.push(b);
    const all = storeNames.reduce((n, store) => n + a.service.app.storeTaskIds(store).length, 0);
    await waitFor('both instances to run their share of the tasks', () => {
      const [ownA, ownB] = [a.service.app.taskIds, b.service.app.taskIds];
      return a.service.app.ready && b.service.app.ready && ownA.length > 0 && ownB.length > 0 && !ownA.some((t) => ownB.includes(t)) && ownA.length + ownB.length >= all;
    }, 90_000);
    return { a, b, config: configA, close };
  } catch (error) {
    await close();
    throw error;
  }
}

export async function removeStateDir(config: TallyConfig): Promise<void> {
  await rm(config.app.stateDir, { recursive: true, force: true });
}

export interface ApiAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON bodies, checked by the tests
  readonly text: string;
}

export interface ApiClient {
  get(path: string, token?: string | null): Promise<ApiAnswer>;
  post(path: string, body: string | Buffer, options?: { token?: string | null; contentType?: string }): Promise<ApiAnswer>;
  /** Any method and headers; `token` as in `get`. */
  request(path: string, init: RequestInit, token?: string | null): Promise<ApiAnswer>;
}

/** `token: null` sends no Authorization header. */
export function apiClient(baseUrl: string, defaultToken: string): ApiClient {
  const call = async (path: string, init: RequestInit, token: string | null | undefined): Promise<ApiAnswer> => {
    const headers = new Headers(init.headers);
    const bearer = token === undefined ? defaultToken : token;
    if (bearer !== null) headers.set('Authorization', `Bearer ${bearer}`);
    const response = await fetch(`${baseUrl}${path}`, { ...init, headers, signal: AbortSignal.timeout(30_000) });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: response.status, headers: response.headers, body, text };
  };
  return {
    request: call,
    get: (path, token) => call(path, { method: 'GET' }, token),
    post: (path, body, options = {}) => call(path, { method: 'POST', body, headers: { 'Content-Type': options.contentType ?? 'application/json' } }, options.token),
  };
}

/**
 * Calls `call` every 200 ms until `accept` takes its answer; fails after `timeoutMs`
 * with the last answer (a test waits for data to flow, never for a time).
 */
export async function untilAnswer(what: string, call: () => Promise<ApiAnswer>, accept: (answer: ApiAnswer) => boolean, timeoutMs = 45_000): Promise<ApiAnswer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await call();
    if (accept(answer)) return answer;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last answer: ${answer.status} ${answer.text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A CloudEvent for the test meters. */
export function usageEvent(fields: { id: string; subject: string; timeMs: number; type?: string; data?: Record<string, unknown> }): Record<string, unknown> {
  return { specversion: '1.0', id: fields.id, source: 'service-test', type: fields.type ?? 'llm.tokens', subject: fields.subject, time: new Date(fields.timeMs).toISOString(), data: fields.data ?? {} };
}

/** The start of the minute `minutesAgo` minutes before now. */
export function minuteAgo(minutesAgo: number): number {
  return Math.floor((Date.now() - minutesAgo * minuteMs) / minuteMs) * minuteMs;
}

/**
 * Opens a transaction on a changelog partition and leaves it open: a task restoring that
 * partition (read_committed) cannot reach its end until `release()` aborts it.
 */
export async function holdRestoration(changelogTopic: string, partition: number): Promise<{ release(): Promise<void> }> {
  const producer = kafkaClient('restoration-holder').producer({ transactionalId: uniqueName('holder'), idempotent: true, maxInFlightRequests: 1, transactionTimeout: 60_000 });
  await producer.connect();
  const transaction = await producer.transaction();
  await transaction.send({ topic: changelogTopic, messages: [{ key: 'held', value: '{}', partition }] });
  return {
    async release() {
      await transaction.abort();
      await producer.disconnect();
    },
  };
}
