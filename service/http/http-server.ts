/**
 * The HTTP server (node:http): routes each request, checks the bearer token
 * on every route that is not public, answers JSON, turns errors into JSON
 * error bodies, and records every answer with `observeHttpRequest`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TallyError } from '../../schemas/index.js';
import type { AppLogger } from '../../topology/kafka/index.js';
import { createBearerCheck } from './bearer-auth.js';
import { errorBody, HttpError } from '../api-errors.js';
import { readBody } from './read-body.js';
import { createRouter, type Route, type RouteResponse } from './router.js';

export interface HttpServerOptions {
  readonly routes: readonly Route[];
  /** Accepted bearer tokens; none: every route is open. */
  readonly tokens: readonly string[];
  readonly maxBodyBytes: number;
  readonly logger: AppLogger;
  /** Called once per answered request; `route` is the matched pattern (`unmatched` otherwise). */
  readonly observe: (method: string, route: string, status: number, seconds: number) => void;
}

export interface HttpServer {
  /** Listens; resolves with the bound address (the real port when 0 was asked). */
  listen(host: string, port: number): Promise<{ host: string; port: number }>;
  /** Stops accepting, lets requests in flight finish (at most `graceMs`), then cuts what is left. */
  close(graceMs?: number): Promise<void>;
}

export function createHttpServer(options: HttpServerOptions): HttpServer {
  const router = createRouter(options.routes);
  const checkBearer = createBearerCheck(options.tokens);
  const server: Server = createServer((request, response) => void handle(request, response));

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const startedMs = performance.now();
    const method = request.method ?? 'GET';
    let routeLabel = 'unmatched';
    let answer: RouteResponse;
    try {
      const url = new URL(request.url ?? '/', 'http://tally.invalid');
      const { route, params } = router.match(method, url.pathname);
      routeLabel = route.pattern;
      if (route.public !== true) checkBearer(request.headers.authorization);
      answer = await route.handle({ method, url, params, headers: request.headers, body: () => readBody(request, options.maxBodyBytes) });
    } catch (error) {
      answer = errorAnswer(error, options.logger, `${method} ${routeLabel}`);
    }
    send(response, answer);
    options.observe(method, routeLabel, answer.status, (performance.now() - startedMs) / 1000);
  }

  return {
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          resolve({ host, port: address.port });
        });
      }),
    close: async (graceMs = 5_000) => {
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}

function errorAnswer(error: unknown, logger: AppLogger, what: string): RouteResponse {
  if (error instanceof HttpError) return { status: error.status, json: errorBody(error.code, error.message, error.details), headers: error.headers };
  // Messages of our own errors are written for users; anything else is a bug, logged, not shown.
  logger.error(`${what} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  const message = error instanceof TallyError ? error.message : 'the request failed inside the service; the service log has the details';
  return { status: 500, json: errorBody(error instanceof TallyError ? error.code : 'internal-error', message) };
}

function send(response: ServerResponse, answer: RouteResponse): void {
  const body = answer.text ?? `${JSON.stringify(answer.json ?? null)}\n`;
  const contentType = answer.contentType ?? (answer.text === undefined ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8');
  response.writeHead(answer.status, { ...answer.headers, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  response.end(body);
}
