/**
 * The Tally service: the metering and rating pipeline on Kafka plus the HTTP
 * API, started from one frozen config.
 *
 * Start-up, in order:
 *  1. check the topics (`ensureTopics`, never creating: `tally topics` does that);
 *  2. connect the event producer and seed `topics.customers` with the config's
 *     customers that the topic does not hold yet;
 *  3. listen on HTTP (health, readiness and metrics answer from now on);
 *  4. start the pipeline, advertising this instance's `host:port` to the group
 *     so other instances can route queries here.
 *
 * `close()` undoes it in reverse within `app.shutdownTimeout` (see shutdown.ts):
 * HTTP server, pipeline, the Kafka clients.
 */
import { hostname } from 'node:os';
import { createMeteringCounters, createRatingCounters, entitlementStoreNames, ratingEnabled } from '../processors/index.js';
import { parseDurationMs, redactConfig, serviceLimitDefaults, type TallyConfig } from '../schemas/index.js';
import type { AppLogger, KafkaApp } from '../topology/kafka/index.js';
import { createServiceMetrics } from './metrics/index.js';
import { ensureTopics } from './topics/index.js';
import { seedCustomers } from './customer-seeding.js';
import { connectEventProducer } from './event-producer.js';
import { startHttpFront } from './http/http-front.js';
import type { HttpLimits } from './http/http-server.js';
import { defaultMaxBodyBytes } from './http/read-body.js';
import { kafkaClient } from './kafka-connection.js';
import { createKafkaProbe } from './kafka-probe.js';
import { notStarted, type StoreReadContext } from './queries/store-reads.js';
import { eventsRoute } from './routes/events-route.js';
import { healthRoutes } from './routes/health-routes.js';
import { entitlementFront, entitlementRoutes } from './routes/entitlement-routes.js';
import { invoiceRoutes } from './routes/invoice-routes.js';
import { queryRoutes } from './routes/query-routes.js';
import { openMeterRoutes } from './openmeter/openmeter-routes.js';
import { shutDown, type ShutdownReport, type ShutdownStep } from './shutdown.js';
import { startPipeline } from './start-pipeline.js';
import { whenReady } from './when-ready.js';

export interface ServiceOptions {
  /** Where log lines go; default the console. Tokens are never logged. */
  readonly logger?: AppLogger;
  /** The wall clock (epoch ms): ingestion time, the future bound, wall-clock closes; default Date.now. */
  readonly wallClockMs?: () => number;
  /** Overrides `http.port` (0: any free port; the URL says which). */
  readonly httpPort?: number;
  /** Overrides `http.host`. */
  readonly httpHost?: string;
  /** `host:port` other instances use to reach this one; default `http.host` (the machine's name when it is a wildcard) and the bound port. */
  readonly advertisedServer?: string;
  /** Largest request body (bytes); default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Consumer group session timeout (ms); default the runtime's (30 s). Tests use less to rebalance fast. */
  readonly sessionTimeoutMs?: number;
  /** Consumer group heartbeat interval (ms); default the runtime's. */
  readonly heartbeatIntervalMs?: number;
  /** Consumer group rebalance timeout (ms); default the runtime's. */
  readonly rebalanceTimeoutMs?: number;
}

export interface TallyService {
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:8080` (the real port when 0 was asked). */
  readonly url: string;
  /** The Kafka runtime running the pipeline. */
  readonly app: KafkaApp;
  /** Resolves the first time every assigned task is restored and processing; rejects if the app fails or closes first. */
  readonly ready: Promise<void>;
  /**
   * Stops the HTTP server, closes the app cleanly (commit, checkpoints, leave
   * the group), then the Kafka clients, all within `timeoutMs` (default
   * `app.shutdownTimeout`); what did not close by then is reported, not waited
   * for. Idempotent: later calls return the first call's report. Never rejects.
   */
  shutDown(timeoutMs?: number): Promise<ShutdownReport>;
  /** `shutDown()` without the report. */
  close(): Promise<void>;
  /** Resolves with the reason when the pipeline fails; never rejects. */
  readonly failure: Promise<Error>;
}

const consoleLogger: AppLogger = { info: (m) => console.log(m), warn: (m) => console.warn(m), error: (m) => console.error(m) };

export async function startService(config: TallyConfig, options: ServiceOptions = {}): Promise<TallyService> {
  const logger = options.logger ?? consoleLogger;
  const wallClockMs = options.wallClockMs ?? Date.now;
  const redacted = redactConfig(config);
  logger.info(`tally: starting app ${config.app.id} with ${JSON.stringify({ app: redacted['app'], kafka: redacted['kafka'], topics: redacted['topics'], http: redacted['http'] })}`);
  await ensureTopics(config, { create: false });

  const shutdownTimeoutMs = config.app.shutdownTimeoutMs ?? parseDurationMs(serviceLimitDefaults.shutdownTimeout);
  /** What is open, in the order it was opened; closed in reverse. */
  const opened: ShutdownStep[] = [];
  const closeAll = (timeoutMs: number): Promise<ShutdownReport> => shutDown(opened.splice(0).reverse(), timeoutMs, logger);
  try {
    const kafka = kafkaClient(config, config.kafka.clientId ?? `${config.app.id}-service`);
    const producer = await connectEventProducer(config, `${config.app.id}-api`);
    opened.push({ name: 'the event producer', close: () => producer.close() });
    const seed = await seedCustomers(config, kafka, producer);
    if (seed.seeded.length + seed.kept.length > 0) {
      logger.info(`tally: customers: seeded ${seed.seeded.length} subject(s) on ${config.topics.customers}; ${seed.kept.length} already there, left as they are`);
    }
    const admin = kafka.admin();
    await admin.connect();
    opened.push({ name: 'the Kafka admin client', close: () => admin.disconnect() });
    const kafkaProbe = createKafkaProbe(config);
    opened.push({ name: 'the readiness probe', close: () => kafkaProbe.close() });

    let app: KafkaApp | undefined;
    let failureReason: string | undefined;
    const counters = createMeteringCounters();
    const ratingCounters = createRatingCounters();
    const metrics = createServiceMetrics({ applicationId: config.app.id, metering: counters, rating: ratingCounters, snapshot: () => app?.snapshot() });
    const host = options.httpHost ?? config.http.host;
    let selfServer = '';
    const context: StoreReadContext = {
      get app(): KafkaApp {
        if (app === undefined) throw notStarted();
        return app;
      },
      applicationId: config.app.id,
      get selfServer() {
        return selfServer;
      },
      admin,
      peerToken: config.http.tokens[0],
    };
    const eventsOptions = { config, producer, wallClockMs, observeIngestApi: (accepted: number, rejected: ReadonlyMap<string, number>) => metrics.observeIngestApi(accepted, rejected) };
    const server = startHttpFront({
      routes: [
        ...healthRoutes(() => app, metrics.registry, () => failureReason, kafkaProbe),
        eventsRoute(eventsOptions),
        ...queryRoutes(context, config),
        ...openMeterRoutes({ ...eventsOptions, context }),
        ...invoiceRoutes(context, config),
        ...entitlementRoutes(context, config, wallClockMs),
      ],
      tokens: config.http.tokens,
      maxBodyBytes: options.maxBodyBytes ?? defaultMaxBodyBytes,
      limits: httpLimits(config),
      logger,
      observe: (method, route, status, seconds) => metrics.observeHttpRequest(method, route, status, seconds),
      // The front's replica tells the current period by the system clock: a service on another clock (tests) reads entitlements here.
      ...(options.wallClockMs === undefined && ratingEnabled(config) ? { entitlements: entitlementFront(config, () => context.app.storeTaskIds(entitlementStoreNames.usage).length) } : {}),
    });
    const bound = await server.listen(host, options.httpPort ?? config.http.port);
    // In-flight requests get a few seconds; most of the budget is the pipeline's final commit.
    const httpStep: ShutdownStep = { name: 'the HTTP server', close: (budgetMs) => server.close(Math.min(httpGraceMs, budgetMs / 4)) };
    opened.push(httpStep);
    const url = `http://${urlHost(host)}:${bound.port}`;
    selfServer = options.advertisedServer ?? `${advertisedHost(host)}:${bound.port}`;
    if (config.http.tokens.length === 0) {
      logger.warn(`tally: http.tokens is empty: the HTTP API at ${url} is open to anyone who can reach it; set http.tokens or http.tokensFile`);
    }

    const started = await startPipeline(config, {
      ...options,
      logger,
      counters,
      ratingCounters,
      observer: metrics.observer,
      applicationServer: selfServer,
      onApp: (created) => (app = created),
      ...(server.feed === undefined ? {} : { committedStoreFeed: server.feed }),
    });
    // Closed after the HTTP server (no more queries into its stores), before the clients.
    opened.splice(opened.indexOf(httpStep), 0, { name: 'the pipeline', close: () => started.close() });
    void started.failure.then((error) => (failureReason = error.message));
    logger.info(`tally: HTTP API at ${url} (advertised to the group as ${selfServer}); restoring and processing in the background`);
    let closing: Promise<ShutdownReport> | undefined;
    const shutDownOnce = (timeoutMs = shutdownTimeoutMs): Promise<ShutdownReport> => (closing ??= closeAll(timeoutMs));
    return { url, app: started, ready: whenReady(started), failure: started.failure, shutDown: shutDownOnce, close: () => shutDownOnce().then(() => undefined) };
  } catch (error) {
    await closeAll(shutdownTimeoutMs);
    throw error;
  }
}

/** Longest wait for in-flight HTTP requests at shutdown. */
const httpGraceMs = 5_000;

function httpLimits(config: TallyConfig): HttpLimits {
  const { http } = config;
  return {
    headersTimeoutMs: http.headersTimeoutMs ?? parseDurationMs(serviceLimitDefaults.headersTimeout),
    requestTimeoutMs: http.requestTimeoutMs ?? parseDurationMs(serviceLimitDefaults.requestTimeout),
    keepAliveTimeoutMs: http.keepAliveTimeoutMs ?? parseDurationMs(serviceLimitDefaults.keepAliveTimeout),
    maxConnections: http.maxConnections ?? serviceLimitDefaults.maxConnections,
  };
}

/** A wildcard address is reached through loopback locally. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** Other instances cannot reach a wildcard address: advertise the machine's name instead. */
function advertisedHost(host: string): string {
  return host === '0.0.0.0' || host === '::' || host === '' ? hostname() : urlHost(host);
}
