/**
 * A connection to a Confluent-compatible schema registry (Apicurio's
 * `/apis/ccompat/v7`, or Confluent's root): the @kafkajs/confluent-schema-registry
 * client for schema lookups by id (it caches what it fetched), plus plain
 * HTTP for the few calls that client does not expose (compatibility checks,
 * subject config). Credentials in the URL become basic auth and are never
 * printed.
 */
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { TallyError } from '../../schemas/errors.js';

type ClientArgs = ConstructorParameters<typeof SchemaRegistry>[0];
type Middleware = NonNullable<ClientArgs['middlewares']>[number];

export interface RegistryConnectionOptions {
  /** Per-request timeout, ms. Default 5 000. */
  readonly requestTimeoutMs?: number;
  readonly clientId?: string;
}

export interface RegistryConnection {
  /** The registry URL without credentials, no trailing slash (safe to print). */
  readonly url: string;
  /** The library client: `getSchema(id)` (cached), `encode(id, value)`, `decode(bytes)`. */
  readonly client: SchemaRegistry;
  /**
   * One HTTP call to `<url><path>` with the registry's JSON content type and
   * the credentials; the body is parsed JSON (undefined when empty).
   */
  call(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<{ readonly status: number; readonly body: unknown }>;
}

const contentType = 'application/vnd.schemaregistry.v1+json';

/** mappersmith (the client's HTTP layer) has no default timeout: a hung registry would hang the lookup for ever. */
function timeoutMiddleware(timeoutMs: number): Middleware {
  return (() => ({
    async prepareRequest(next: () => Promise<{ timeout(): number | undefined; enhance(extras: { timeout: number }): unknown }>) {
      const request = await next();
      return request.timeout() ? request : request.enhance({ timeout: timeoutMs });
    },
  })) as unknown as Middleware;
}

/**
 * Connects to the registry at `url` (`http(s)://[user:password@]host[:port]/path`).
 * Lookups are not retried by the client itself: the caller decides (see writer-schemas.ts).
 * @throws TallyError `registry-url-invalid` for a URL that is not http(s)
 */
export function connectSchemaRegistry(url: string, options: RegistryConnectionOptions = {}): RegistryConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TallyError('registry-url-invalid', `schemaRegistry.url is not a URL; give e.g. "http://127.0.0.1:8081/apis/ccompat/v7"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TallyError('registry-url-invalid', `schemaRegistry.url must be http:// or https://, got ${parsed.protocol}`);
  }
  const username = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  const base = parsed.toString().replace(/\/+$/, '');
  const timeoutMs = options.requestTimeoutMs ?? 5_000;
  const auth = username === '' ? undefined : { username, password };
  const client = new SchemaRegistry({
    host: base,
    clientId: options.clientId ?? 'tally',
    retry: { retries: 0 },
    middlewares: [timeoutMiddleware(timeoutMs)],
    ...(auth === undefined ? {} : { auth }),
  });
  const authorization = auth === undefined ? undefined : `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  return {
    url: base,
    client,
    async call(method, path, body) {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { accept: contentType, ...(body === undefined ? {} : { 'content-type': contentType }), ...(authorization === undefined ? {} : { authorization }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      let parsedBody: unknown = text === '' ? undefined : text;
      try {
        parsedBody = text === '' ? undefined : JSON.parse(text);
      } catch {
        /* not JSON: keep the text */
      }
      return { status: response.status, body: parsedBody };
    },
  };
}

/** The HTTP status the registry client saw, if it got that far (network errors and timeouts surface as 400 from mappersmith). */
export function registryErrorStatus(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}
