/**
 * The HTTP API's front: the HTTP server runs in a worker thread of its own
 * (front-worker.ts), so a request is read, checked and answered there while
 * this thread processes records. Each request is handed back here to its
 * route, except entitlement reads of customers whose task runs on this
 * instance: the front answers those from a replica of the committed
 * entitlement stores that the pipeline feeds (`feed`, see
 * committed-store-feed.ts), without waiting for this thread's event loop —
 * a processing slice, a commit's flush or a garbage collection here never
 * delays them.
 *
 * Lifecycle: created (the thread starts) → listening → closed; `close`
 * before `listen` ends the thread. The front's log lines and per-request
 * observations come back here to the service's logger and metrics.
 */
import { Worker } from 'node:worker_threads';
import { entitlementStoreNames } from '../../processors/index.js';
import type { CommittedStoreFeed, FedWrite } from '../../topology/kafka/index.js';
import type { ErrorBody } from '../api-errors.js';
import { replicaWrites, type ReplicaChange } from '../queries/entitlement-replica.js';
import type { ForwardedError, ForwardedRequest, ForwardedResponse, FromFront, FrontEntitlements, FrontSettings, ToFront } from './front-protocol.js';
import { errorAnswer, responseBody, type HttpServer, type HttpServerOptions } from './http-server.js';
import type { RouteResponse } from './router.js';

export interface EntitlementFrontOptions extends FrontEntitlements {
  /** How many tasks the entitlement stores have (the partitions of their sub-topology); asked when a task starts. */
  readonly taskCount: () => number;
}

export interface HttpFront extends HttpServer {
  /** Feeds the front's entitlement replica; undefined when the front answers no entitlement reads itself. */
  readonly feed: CommittedStoreFeed | undefined;
}

type FrontState = 'created' | 'listening' | 'closed';

/** Longest wait for the front's thread to say it closed, beyond the grace given to requests in flight. */
const closeMarginMs = 2_000;

export function startHttpFront(options: HttpServerOptions & { readonly entitlements?: EntitlementFrontOptions }): HttpFront {
  const { routes, logger, entitlements } = options;
  const settings: FrontSettings = {
    routes: routes.map(({ method, pattern, public: open }) => ({ method, pattern, ...(open === undefined ? {} : { public: open }) })),
    tokens: options.tokens,
    maxBodyBytes: options.maxBodyBytes,
    limits: options.limits,
    ...(entitlements === undefined ? {} : { entitlements: frontEntitlements(entitlements) }),
  };
  const worker = startWorker(settings);
  let state: FrontState = 'created';
  let onListen: ((message: FromFront) => void) | undefined;
  let onClosed: (() => void) | undefined;
  const post = (message: ToFront): void => worker.postMessage(message);

  worker.on('message', (message: FromFront) => {
    switch (message.type) {
      case 'request':
        void serveForwarded(routes, message.request, logger).then((answer) => post({ type: 'answer', id: message.id, ...answer }));
        break;
      case 'observe':
        options.observe(message.method, message.route, message.status, message.seconds);
        break;
      case 'log':
        logger[message.level](message.message);
        break;
      case 'listening':
      case 'listen-failed':
        onListen?.(message);
        break;
      case 'closed':
        onClosed?.();
        break;
    }
  });
  worker.on('error', (error) => logger.error(`http: the HTTP front's thread failed: ${error.stack ?? error.message}; the HTTP API no longer answers`));
  worker.on('exit', (code) => {
    if (state !== 'closed') logger.error(`http: the HTTP front's thread ended (exit code ${code}); the HTTP API no longer answers`);
    onListen?.({ type: 'listen-failed', message: `the HTTP front's thread ended (exit code ${code}) before it listened`, code: undefined });
    onClosed?.();
  });

  const replicate = (change: ReplicaChange): void => {
    if (state !== 'closed') post({ type: 'replica', change });
  };
  const feed: CommittedStoreFeed | undefined =
    entitlements === undefined
      ? undefined
      : {
          storeNames: [entitlementStoreNames.usage, entitlementStoreNames.terms],
          taskStarted: (taskId: string, writes: readonly FedWrite[]) => replicate({ kind: 'started', taskId, taskCount: entitlements.taskCount(), writes: replicaWrites(writes) }),
          committed: (taskId: string, writes: readonly FedWrite[]) => replicate({ kind: 'committed', taskId, writes: replicaWrites(writes) }),
          taskStopped: (taskId: string) => replicate({ kind: 'stopped', taskId }),
        };

  return {
    feed,
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        onListen = (message) => {
          onListen = undefined;
          if (message.type === 'listening') {
            state = 'listening';
            resolve({ host: message.host, port: message.port });
          } else if (message.type === 'listen-failed') {
            reject(Object.assign(new Error(message.message), message.code === undefined ? {} : { code: message.code }));
          }
        };
        post({ type: 'listen', host, port });
      }),
    close: async (graceMs = 5_000) => {
      if (state === 'closed') return;
      const wasListening = state === 'listening';
      state = 'closed';
      if (wasListening) {
        const closed = new Promise<void>((resolve) => (onClosed = resolve));
        post({ type: 'close', graceMs });
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs + closeMarginMs)))]);
        clearTimeout(timer);
      }
      await worker.terminate();
    },
  };
}

/** What the front's thread is told about entitlements (data only: a function does not cross threads). */
function frontEntitlements({ allPattern, onePattern, statesPattern, termsPattern, configured }: EntitlementFrontOptions): FrontEntitlements {
  return { allPattern, onePattern, statesPattern, termsPattern, configured };
}

/** The front's thread: compiled (dist/) or, from the TypeScript sources (tests), through tsx. */
function startWorker(settings: FrontSettings): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  // None of the process's node flags: some (--input-type, --eval) are refused for a worker, and the front needs none.
  return new Worker(new URL(fromSource ? './front-worker-from-source.mjs' : './front-worker.js', import.meta.url), { workerData: settings, execArgv: [] });
}

/** Runs a request the front handed over; the answer as the front sends it. */
async function serveForwarded(routes: HttpServerOptions['routes'], request: ForwardedRequest, logger: HttpServerOptions['logger']): Promise<{ response?: ForwardedResponse; error?: ForwardedError }> {
  const route = routes[request.route];
  if (route === undefined) return { error: { status: 500, code: 'internal-error', message: `the HTTP front asked for route ${request.route}, which does not exist`, details: {}, headers: {} } };
  try {
    const body = request.body === undefined ? Buffer.alloc(0) : Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);
    const answer = await route.handle({ method: request.method, url: new URL(request.url), params: request.params, headers: request.headers, body: async () => body });
    return { response: asText(answer) };
  } catch (error) {
    const answer = errorAnswer(error, logger, `${request.method} ${route.pattern}`);
    const { code, message, ...details } = (answer.json as ErrorBody).error;
    return { error: { status: answer.status, code, message, details, headers: answer.headers ?? {} } };
  }
}

/** JSON bodies become text here: values such as Decimal serialize through their toJSON, which a copy to another thread would lose. */
function asText(answer: RouteResponse): ForwardedResponse {
  const { body, contentType } = responseBody(answer);
  return { status: answer.status, text: body, contentType, ...(answer.headers === undefined ? {} : { headers: answer.headers }) };
}
