/**
 * The HTTP server (node:http): routes each request, checks the bearer token
 * on every route that is not public, answers JSON, turns errors into JSON
 * error bodies, and records every answer with `observeHttpRequest`.
 *
 * Limits against slow or abusive clients: headers and whole requests must
 * arrive within `headersTimeoutMs` / `requestTimeoutMs` (else 408 and the
 * connection closes), idle keep-alive connections close after
 * `keepAliveTimeoutMs`, connections past `maxConnections` are closed when
 * accepted, bodies stop being read at `maxBodyBytes` (413), and JSON bodies
 * may nest at most `maxJsonDepth` levels (400).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TallyError } from '../../schemas/index.js';
import type { AppLogger } from '../../topology/kafka/index.js';
import { createBearerCheck } from './bearer-auth.js';
import { errorBody, HttpError } from '../api-errors.js';
import { checkJsonDepth } from './json-depth.js';
import { closeAfterAnswer } from './lingering-close.js';
import { readBody } from './read-body.js';
import { problemPathPrefix, problemResponse } from './problem-json.js';
import { parseRequestTarget } from './request-target.js';
import { createRouter, type Route, type RouteResponse } from './router.js';

/** The server's time and connection limits (from `http:` in the config). */
export interface HttpLimits {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxConnections: number;
}

/** How often node checks the header and request timeouts (its default, 30 s, would let a slow client hold on that much longer). */
const timeoutCheckIntervalMs = 1_000;
/** At most one "connection refused" warning per this long. */
const dropWarningIntervalMs = 60_000;

export interface HttpServerOptions {
  readonly routes: readonly Route[];
  /** Accepted bearer tokens; none: every route is open. */
  readonly tokens: readonly string[];
  readonly maxBodyBytes: number;
  readonly limits: HttpLimits;
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
  const { limits } = options;
  const server: Server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(timeoutCheckIntervalMs, limits.headersTimeoutMs),
    },
    (request, response) => void handle(request, response),
  );
  server.maxConnections = limits.maxConnections;
  let lastDropWarningMs = -Infinity;
  server.on('drop', () => {
    if (performance.now() - lastDropWarningMs < dropWarningIntervalMs) return;
    lastDropWarningMs = performance.now();
    options.logger.warn(`http: refused a connection: ${limits.maxConnections} are open (http.maxConnections); more are refused without a warning for a minute`);
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const startedMs = performance.now();
    const method = request.method ?? 'GET';
    let routeLabel = 'unmatched';
    let answer: RouteResponse;
    let pathname = '';
    try {
      const url = parseRequestTarget(request.url ?? '/');
      pathname = url.pathname;
      const { route, params } = router.match(method, url.pathname);
      routeLabel = route.pattern;
      if (route.public !== true) checkBearer(request.headers.authorization);
      answer = await route.handle({ method, url, params, headers: request.headers, body: () => readRequestBody(request, options.maxBodyBytes) });
    } catch (error) {
      answer = errorAnswer(error, options.logger, `${method} ${routeLabel}`);
      if (pathname.startsWith(problemPathPrefix)) answer = asProblem(answer, pathname);
    }
    send(request, response, answer);
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

/** The answer to a failed request: an HttpError as it says; anything else logged, and 500. */
export function errorAnswer(error: unknown, logger: AppLogger, what: string): RouteResponse {
  if (error instanceof HttpError) return { status: error.status, json: errorBody(error.code, error.message, error.details), headers: error.headers };
  // Messages of our own errors are written for users; anything else is a bug, logged, not shown.
  logger.error(`${what} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  const message = error instanceof TallyError ? error.message : 'the request failed inside the service; the service log has the details';
  return { status: 500, json: errorBody(error instanceof TallyError ? error.code : 'internal-error', message) };
}

/** The same error as RFC 7807 problem details (the OpenMeter-compatible routes). */
function asProblem(answer: RouteResponse, instance: string): RouteResponse {
  const { code = 'internal-error', message = '', ...details } = (answer.json as { error?: Record<string, unknown> } | undefined)?.error ?? {};
  return problemResponse({ status: answer.status, code: String(code), detail: String(message), instance, extensions: details, ...(answer.headers === undefined ? {} : { headers: answer.headers }) });
}

/** The body, read up to the limit; a JSON body is also checked for depth before anyone parses it. */
async function readRequestBody(request: IncomingMessage, maxBodyBytes: number): Promise<Buffer> {
  const body = await readBody(request, maxBodyBytes);
  if (/json/i.test(request.headers['content-type'] ?? '')) checkJsonDepth(body);
  return body;
}

/** The body an answer sends, and its content type: JSON unless the route gave text. */
export function responseBody(answer: RouteResponse): { readonly body: string; readonly contentType: string } {
  const body = answer.text ?? `${JSON.stringify(answer.json ?? null)}\n`;
  return { body, contentType: answer.contentType ?? (answer.text === undefined ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8') };
}

function send(request: IncomingMessage, response: ServerResponse, answer: RouteResponse): void {
  if (answer.status === 204) {
    response.writeHead(204, { ...answer.headers, 'Cache-Control': 'no-store' });
    response.end();
    return;
  }
  const { body, contentType } = responseBody(answer);
  response.writeHead(answer.status, { ...answer.headers, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  // `Connection: close` means the request may not have been read to its end (a body over the
  // limit): the connection goes after the answer, closed so that the answer is not lost.
  if (answer.headers?.['Connection'] === 'close') closeAfterAnswer(request, response);
  response.end(body);
}
