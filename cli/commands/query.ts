/**
 * `tally query`: asks a running service (`tally run`) for a meter query or a
 * customer's billing details and prints the JSON body. HTTP errors print
 * the error body on stdout and the message on stderr, exit 1.
 */
import { loadConfig, type TallyConfig } from '../../schemas/index.js';
import { parseOptions, UsageError } from './cli-args.js';
import { commandWithUsage } from './command-with-usage.js';

export const queryHelp = `Usage: tally query [--url URL | --config FILE] [--token TOKEN] QUERY
       tally query [--url URL | --config FILE] [--token TOKEN] --customer ID

Asks a running Tally service and prints the JSON answer:
  QUERY            a meter query, as for \`tally replay --query\`, e.g.
                   'meter=tokens&from=2024-01-01T00:00:00Z&to=2024-01-02T00:00:00Z&windowSize=HOUR'
                   (GET /v1/meters/{meter}/query)
  --customer ID    the customer's current billing details (GET /v1/customers/{id}/billing)

Options:
  --url URL        the service, e.g. http://127.0.0.1:8080
  --config FILE    take the URL (http.host, http.port) and the token (the first of http.tokens) from tally.yaml
  --token TOKEN    bearer token (default: $TALLY_TOKEN, else the config's first token)
  --timeout-ms N   give up after N ms (default 30000)
  --help           show this help

Exit status: 0 on a 2xx answer, 1 on an HTTP error or an unreachable service, 2 on bad options.`;

export interface QueryArgs {
  readonly url: string | undefined;
  readonly configPath: string | undefined;
  readonly token: string | undefined;
  readonly timeoutMs: number;
  /** Exactly one of query and customer. */
  readonly query: string | undefined;
  readonly customer: string | undefined;
}

const valueFlags = ['--url', '--config', '--token', '--customer', '--timeout-ms'] as const;

export function parseQueryArgs(args: readonly string[]): QueryArgs {
  const flags: string[] = [];
  const positional: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    if (!arg.startsWith('--')) positional.push(arg);
    else flags.push(arg, ...((valueFlags as readonly string[]).includes(arg) && index + 1 < args.length ? [args[++index] as string] : []));
  }
  const { values } = parseOptions(flags, { values: valueFlags });
  if (positional.length > 1) throw new UsageError(`give one QUERY, got ${positional.length}: quote the query so the shell keeps it in one piece`);
  const query = positional[0];
  const customer = values.get('--customer');
  if ((query === undefined) === (customer === undefined)) throw new UsageError('give either a QUERY (meter=…&from=…&to=…) or --customer ID');
  if (query !== undefined && !new URLSearchParams(query).get('meter')) throw new UsageError(`the query ${JSON.stringify(query)} has no meter: add meter=<slug>`);
  const url = values.get('--url');
  const configPath = values.get('--config');
  if (url === undefined && configPath === undefined) throw new UsageError('give --url URL of the service, or --config FILE to take it from tally.yaml');
  if (url !== undefined && !/^https?:\/\/[^/]+/.test(url)) throw new UsageError(`--url ${JSON.stringify(url)} must be an http(s) URL, e.g. http://127.0.0.1:8080`);
  const timeout = values.get('--timeout-ms') ?? '30000';
  if (!/^[1-9]\d*$/.test(timeout)) throw new UsageError(`--timeout-ms ${JSON.stringify(timeout)} must be a whole number of ms`);
  return { url, configPath, token: values.get('--token') ?? process.env['TALLY_TOKEN'], timeoutMs: Number(timeout), query, customer };
}

export interface QueryIo {
  write(text: string): void;
  error(line: string): void;
}

/** The request path for the query or customer. */
export function requestPath(args: Pick<QueryArgs, 'query' | 'customer'>): string {
  if (args.customer !== undefined) return `/v1/customers/${encodeURIComponent(args.customer)}/billing`;
  const params = new URLSearchParams(args.query);
  return `/v1/meters/${encodeURIComponent(params.get('meter') as string)}/query?${params.toString()}`;
}

function configUrl(config: TallyConfig): string {
  const host = config.http.host === '0.0.0.0' || config.http.host === '::' ? '127.0.0.1' : config.http.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.http.port}`;
}

export async function runQuery(args: QueryArgs, io: QueryIo): Promise<number> {
  let base = args.url;
  let token = args.token;
  if (args.configPath !== undefined) {
    try {
      const config = await loadConfig(args.configPath);
      base ??= configUrl(config);
      token ??= config.http.tokens[0];
    } catch (error) {
      io.error(`tally query: ${(error as Error).message}`);
      return 1;
    }
  }
  const url = `${(base as string).replace(/\/+$/, '')}${requestPath(args)}`;
  let response: Response;
  try {
    response = await fetch(url, { headers: token === undefined ? {} : { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(args.timeoutMs) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    io.error(`tally query: cannot reach ${base} (${cause}): is \`tally run\` running there?`);
    return 1;
  }
  const body = await response.text();
  io.write(body.endsWith('\n') ? body : `${body}\n`);
  if (response.ok) return 0;
  let message = body.trim();
  try {
    message = (JSON.parse(body) as { error?: { message?: string } }).error?.message ?? message;
  } catch {
    // not JSON: print it as is
  }
  io.error(`tally query: HTTP ${response.status}: ${message}`);
  return 1;
}

export const queryCommand = commandWithUsage({
  name: 'query',
  summary: 'ask a running service for a meter query or billing details',
  help: queryHelp,
  parse: parseQueryArgs,
  run: (parsed) => runQuery(parsed, { write: (text) => process.stdout.write(text), error: (line) => process.stderr.write(`${line}\n`) }),
});
