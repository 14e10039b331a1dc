/**
 * The HTTP front's thread (see http-front.ts): it owns the listening socket
 * and runs the HTTP server — limits, routing, bearer tokens, bodies, error
 * bodies — and hands each request to the main thread, except the entitlement
 * reads its committed replica can answer.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { AppLogger } from '../../topology/kafka/index.js';
import { HttpError } from '../api-errors.js';
import { oneEntitlement } from '../queries/entitlement-answers.js';
import { EntitlementReplica } from '../queries/entitlement-replica.js';
import type { ForwardedRequest, FromFront, FrontSettings, RouteShape, ToFront } from './front-protocol.js';
import { createHttpServer } from './http-server.js';
import type { Route, RouteRequest, RouteResponse } from './router.js';

const port = parentPort;
if (port === null) throw new Error('front-worker.ts runs as a worker thread of the service; start it through startHttpFront');
const settings = workerData as FrontSettings;
const post = (message: FromFront, transfer?: ArrayBuffer[]): void => port.postMessage(message, transfer);

const logger: AppLogger = {
  info: (message) => post({ type: 'log', level: 'info', message }),
  warn: (message) => post({ type: 'log', level: 'warn', message }),
  error: (message) => post({ type: 'log', level: 'error', message }),
};

/** Requests handed to the main thread, by id, until it answers. */
const waiting = new Map<number, { resolve(response: RouteResponse): void; reject(error: Error): void }>();
let nextId = 0;

function forward(request: ForwardedRequest): Promise<RouteResponse> {
  const id = nextId++;
  return new Promise<RouteResponse>((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    post({ type: 'request', id, request });
  });
}

const entitlements = settings.entitlements;
const configured = new Map((entitlements?.configured ?? []).map((customer) => [customer.id, customer]));
const replica = entitlements === undefined ? undefined : new EntitlementReplica((customerId) => configured.get(customerId));

/**
 * The answer from the replica, when the request is an entitlement read of a
 * customer whose task runs here: public, or the internal read of another
 * instance (so a forwarded read is answered from the same committed state).
 */
function answerHere(shape: RouteShape, request: RouteRequest): RouteResponse | undefined {
  if (replica === undefined || entitlements === undefined || shape.method !== 'GET') return undefined;
  const customerId = request.params['id'] as string;
  switch (shape.pattern) {
    case entitlements.allPattern:
    case entitlements.onePattern: {
      const answer = replica.answer(customerId, Date.now());
      if (answer === undefined) return undefined;
      return { status: 200, json: shape.pattern === entitlements.onePattern ? oneEntitlement(answer, request.params['key'] as string) : answer };
    }
    case entitlements.statesPattern: {
      const states = replica.statesIn(request.url.searchParams.getAll('task'), customerId);
      return states === undefined ? undefined : { status: 200, json: { states } };
    }
    case entitlements.termsPattern: {
      const terms = replica.termsIn(request.url.searchParams.getAll('task'), customerId);
      return terms === undefined ? undefined : { status: 200, json: { terms } };
    }
    default:
      return undefined;
  }
}

/** A body is read (and its limits applied) here only when the request has one. */
const hasBody = (request: RouteRequest): boolean =>
  request.headers['transfer-encoding'] !== undefined || (request.headers['content-length'] !== undefined && request.headers['content-length'] !== '0');

const routes: Route[] = settings.routes.map((shape, index) => ({
  ...shape,
  async handle(request) {
    const here = answerHere(shape, request);
    if (here !== undefined) return here;
    const body = hasBody(request) ? await request.body() : undefined;
    return forward({ route: index, method: request.method, url: request.url.href, params: request.params, headers: request.headers, body });
  },
}));

const server = createHttpServer({
  routes,
  tokens: settings.tokens,
  maxBodyBytes: settings.maxBodyBytes,
  limits: settings.limits,
  logger,
  observe: (method, route, status, seconds) => post({ type: 'observe', method, route, status, seconds }),
});

port.on('message', (message: ToFront) => {
  switch (message.type) {
    case 'answer': {
      const request = waiting.get(message.id);
      waiting.delete(message.id);
      if (message.error !== undefined) {
        const { status, code, message: text, details, headers } = message.error;
        request?.reject(new HttpError(status, code, text, details, headers));
      } else if (message.response !== undefined) request?.resolve(message.response);
      break;
    }
    case 'replica':
      replica?.apply(message.change);
      break;
    case 'listen':
      server.listen(message.host, message.port).then(
        (bound) => post({ type: 'listening', host: bound.host, port: bound.port }),
        (error: Error & { code?: string }) => post({ type: 'listen-failed', message: error.message, code: error.code }),
      );
      break;
    case 'close':
      void server.close(message.graceMs).then(() => post({ type: 'closed' }));
      break;
  }
});
