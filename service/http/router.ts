/**
 * A small router for the HTTP API: routes are a method and a path pattern
 * with `{name}` segments (`/v1/meters/{slug}/query`); the pattern doubles as
 * the route's metrics label. Unknown paths answer 404, a known path with
 * another method 405 with `Allow`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { HttpError } from '../api-errors.js';

export interface RouteRequest {
  readonly method: string;
  readonly url: URL;
  /** Decoded path parameters by name. */
  readonly params: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  /** The request body; answers 413 when it exceeds the server's limit. */
  body(): Promise<Buffer>;
}

export interface RouteResponse {
  readonly status: number;
  /** Sent as JSON (`application/json; charset=utf-8`). */
  readonly json?: unknown;
  /** Sent as is with `contentType` (e.g. Prometheus text). */
  readonly text?: string;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Route {
  readonly method: 'GET' | 'POST';
  readonly pattern: string;
  /** Answered without a bearer token (health, readiness, metrics). */
  readonly public?: boolean;
  handle(request: RouteRequest): Promise<RouteResponse>;
}

interface CompiledRoute {
  readonly route: Route;
  readonly regex: RegExp;
  readonly names: readonly string[];
}

export interface RouteMatch {
  readonly route: Route;
  readonly params: Record<string, string>;
}

export interface Router {
  /** The matching route, or throws HttpError 404 / 405. */
  match(method: string, pathname: string): RouteMatch;
}

export function createRouter(routes: readonly Route[]): Router {
  const compiled = routes.map(compileRoute);
  return {
    match(method, pathname) {
      const allowed: string[] = [];
      for (const { route, regex, names } of compiled) {
        const found = regex.exec(pathname);
        if (found === null) continue;
        if (route.method !== method) {
          allowed.push(route.method);
          continue;
        }
        const params: Record<string, string> = {};
        names.forEach((name, index) => (params[name] = decodeSegment(found[index + 1] as string, name)));
        return { route, params };
      }
      if (allowed.length > 0) {
        throw new HttpError(405, 'method-not-allowed', `${method} is not supported on ${pathname}; use ${allowed.join(' or ')}`, {}, { Allow: allowed.join(', ') });
      }
      throw new HttpError(404, 'not-found', `no endpoint ${pathname}; the API is /v1/events, /v1/meters/{slug}/query, /v1/customers/{id}/billing, /healthz, /readyz and /metrics, and for OpenMeter clients /api/v1/events, /api/v1/meters and /api/v1/meters/{meterIdOrSlug}/query`);
    },
  };
}

function compileRoute(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.pattern
    .split('/')
    .map((segment) => {
      const name = /^\{(\w+)\}$/.exec(segment)?.[1];
      if (name === undefined) return segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
      names.push(name);
      return '([^/]+)';
    })
    .join('/');
  return { route, regex: new RegExp(`^${source}$`), names };
}

function decodeSegment(segment: string, name: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'invalid-path', `path parameter ${name} ${JSON.stringify(segment)} is not valid percent-encoding; encode it with encodeURIComponent`);
  }
}
