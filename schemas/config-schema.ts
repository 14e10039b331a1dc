/**
 * `tally.yaml`, declared once (README.md, "Configuration"): every key with its type, default,
 * constraint and description. Validation, defaults, redaction and the
 * reference (`describeConfigSchema`) all derive from these declarations.
 * The rating sections (customers, plans) are in `config-schema-rating.ts`;
 * rules that span sections are in `config-rules.ts`.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatDurationMs } from './duration.js';
import { aggregations, defaultFetchMaxBytes, internalRecordFormats, processingGuarantees, serviceLimitDefaults, type AggregationName } from './config-types.js';
import { customersField, plansField } from './config-schema-rating.js';
import { checkConfigRules } from './config-rules.js';
import { record, list, map, type ConfigNode, type FieldSpec, type ParseContext, type Presence } from './internal/config-dsl.js';
import { boolean, duration, httpUrl, integer, jsonPath, oneOf, passthrough, slug, text, SLUG } from './internal/config-scalars.js';
import { mergeSecretFiles, type SecretFileOption } from './internal/config-secret-files.js';

const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const topic = (name: string, description: string): FieldSpec => ({
  node: text({ pattern: TOPIC, hint: 'a Kafka topic name uses letters, digits, ., _ and - (at most 249)' }),
  default: name,
  description,
});

/** A check that each listed duration (by its parsed `…Ms` key) is longer than zero. */
function positiveDurations(keys: Readonly<Record<string, string>>) {
  return (value: Record<string, unknown>, path: string, ctx: ParseContext): void => {
    for (const [outputKey, key] of Object.entries(keys)) {
      if (value[outputKey] === 0) ctx.report(`${path}.${key}`, 'must be longer than zero, e.g. PT30S');
    }
  };
}

const app = record('app', {
  id: {
    node: text({ pattern: /^[A-Za-z0-9._-]{1,100}$/, hint: 'use letters, digits, ., _ and - (it prefixes topics and transactional ids)' }),
    default: 'tally',
    description: 'Application id: the consumer group, and the prefix of changelog and repartition topics and transactional ids. Changing it starts from empty state.',
  },
  stateDir: { node: text(), default: '.tally/state', description: 'Directory for local state (LevelDB stores, checkpoints), relative to the working directory. Disposable: it is restored from changelog topics.' },
  processingGuarantee: {
    node: oneOf(processingGuarantees),
    default: 'exactly_once',
    description: 'exactly_once: outputs, changelog writes and input offsets commit in one Kafka transaction. at_least_once: faster, may re-emit after a crash.',
  },
  commitIntervalMs: { node: integer(1, 3_600_000), default: 100, description: 'How often each task commits, in milliseconds.' },
  cacheMaxBytes: {
    node: integer(0, Number.MAX_SAFE_INTEGER),
    default: 16 * 1024 * 1024,
    description:
      'Bytes the record caches of every store of this instance may hold together (estimated; Kafka Streams\' statestore.cache.max.bytes). ' +
      'Larger coalesces more updates per commit and serves more reads from memory; 0 turns coalescing across records off. ' +
      'The default, 16 MiB, is as fast as 64 MiB on the metering benchmark and keeps the process about 200 MB smaller (see docs/performance.md).',
  },
  fetchMaxBytes: {
    node: integer(1024, 1024 * 1024 * 1024),
    default: defaultFetchMaxBytes,
    description:
      'Most bytes one fetch from a broker returns (Kafka\'s fetch.max.bytes; a partition\'s first record batch comes whole even if larger). ' +
      'Fetched records wait in memory until they are processed, and a fetch response is held until its last record is: ' +
      'smaller keeps the process smaller, at a cost in throughput (2 MiB: ~40 MB less at the peak, ~20 % fewer events/s on the metering benchmark; see docs/performance.md). ' +
      'The default, 10 MiB, is kafkajs\'s own.',
  },
  internalRecordFormat: {
    node: oneOf(internalRecordFormats),
    default: 'binary',
    description:
      'How internal records (store values, changelog and repartition topics) are written: binary (compact, cheaper to encode and decode) or json. ' +
      'Both are always read. Use json for the first bounce of a rolling upgrade from a version that reads only JSON, then switch to binary. ' +
      'The public topics are JSON either way.',
  },
  shutdownTimeout: {
    node: duration(),
    output: 'shutdownTimeoutMs',
    default: serviceLimitDefaults.shutdownTimeout,
    description:
      'Longest time from SIGTERM (or a pipeline failure) to the exit of `tally run`: the HTTP server, the pipeline (final commit, checkpoints, leaving the group) ' +
      'and the Kafka clients close in that time, and whatever has not closed by then is logged and left behind (exit 1). Keep it below the orchestrator\'s grace period.',
  },
}, { check: positiveDurations({ shutdownTimeoutMs: 'shutdownTimeout' }) });

const isSsl = (raw: unknown): raw is boolean | Record<string, unknown> => typeof raw === 'boolean' || (typeof raw === 'object' && raw !== null && !Array.isArray(raw));
const isSasl = (raw: unknown): raw is Record<string, unknown> => typeof raw === 'object' && raw !== null && !Array.isArray(raw);
const SSL_SECRETS = new Set(['key', 'passphrase', 'pfx']);
const REDACTED = '[redacted]';

/** Secrets the `ssl` and `sasl` options may take from files (e.g. a mounted Kubernetes Secret). */
const SSL_FILES: readonly SecretFileOption[] = [
  { fileKey: 'caFile', into: 'ca', holds: 'the CA certificate(s) in PEM' },
  { fileKey: 'certFile', into: 'cert', holds: 'the client certificate in PEM' },
  { fileKey: 'keyFile', into: 'key', holds: 'the client private key in PEM' },
];
const SASL_FILES: readonly SecretFileOption[] = [{ fileKey: 'passwordFile', into: 'password', holds: 'the SASL password', trimTrailingNewlines: true }];

/** Reads `ssl.caFile`/`certFile`/`keyFile` and `sasl.passwordFile` into the options kafkajs takes. */
function mergeKafkaSecretFiles(value: Record<string, unknown>, path: string, ctx: ParseContext): Record<string, unknown> {
  const { ssl, sasl } = value;
  const merged = { ...value };
  if (typeof ssl === 'object' && ssl !== null) merged['ssl'] = mergeSecretFiles(ssl as Record<string, unknown>, `${path}.ssl`, ctx, SSL_FILES);
  if (typeof sasl === 'object' && sasl !== null) merged['sasl'] = mergeSecretFiles(sasl as Record<string, unknown>, `${path}.sasl`, ctx, SASL_FILES);
  return merged;
}

const kafka = record(
  'kafka',
  {
    brokers: {
      node: list('list of host:port', text({ pattern: /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):[0-9]{1,5}$/, hint: 'write host:port, e.g. "127.0.0.1:9092"' }), {
        nonEmpty: 'list at least one broker, e.g. ["127.0.0.1:9092"]',
      }),
      default: ['127.0.0.1:9092'],
      description: 'Bootstrap brokers.',
    },
    clientId: { node: text(), description: 'Kafka client id; defaults to app.id.' },
    ssl: {
      node: passthrough('true, false or a mapping of TLS options', isSsl, (value) =>
        typeof value === 'boolean' ? value : Object.fromEntries(Object.entries(value).map(([key, option]) => [key, SSL_SECRETS.has(key) ? REDACTED : option])),
      ),
      description:
        'TLS options for kafkajs (ca, cert, key, ...); caFile, certFile and keyFile read ca, cert and key from PEM files relative to the config file. ' +
        'key, passphrase and pfx are redacted when printed.',
    },
    sasl: {
      node: passthrough('a mapping (mechanism, username, password, ...)', isSasl, (value) =>
        Object.fromEntries(Object.entries(value).map(([key, option]) => [key, key === 'mechanism' ? option : REDACTED])),
      ),
      description:
        'SASL options for kafkajs (mechanism, username, password, ...); passwordFile reads password from a file relative to the config file (trailing line breaks dropped). ' +
        'Everything but mechanism is redacted when printed.',
    },
  },
  { finish: mergeKafkaSecretFiles },
);

const schemaRegistry = record('schemaRegistry', {
  url: {
    node: httpUrl(),
    required: '(the Confluent-compatible API, e.g. "http://127.0.0.1:8081/apis/ccompat/v7")',
    description: 'Schema registry URL for Avro events (Apicurio: `/apis/ccompat/v7`). Credentials in the URL are redacted when printed.',
  },
});

const topics = record(
  'topics',
  {
    events: topic('usage-events', 'Input: usage events (CloudEvents JSON, or Avro with a schema registry).'),
    meters: topic('tally-meters', 'Output, compacted: meter aggregates per window.'),
    billing: topic('tally-billing-details', 'Output, compacted: priced billing detail per customer, charge and period.'),
    late: topic('tally-late-events', 'Output: events that arrived after their window closed.'),
    deadLetter: topic('tally-dead-letter', 'Output: events that could not be decoded or validated, with the reason.'),
    customers: topic('tally-customers', 'Compacted customer table; seeded from `customers`, the source of truth at run time.'),
    invoices: topic('tally-invoices', 'Output, compacted: one invoice per customer and billing period, a line per billing detail.'),
    entitlements: topic('tally-entitlements', 'Output, compacted: usage, remaining and access per customer, entitlement and billing period.'),
    alerts: topic('tally-alerts', 'Output: one record per usage alert threshold crossed, per customer, entitlement and billing period.'),
  },
  {
    check(value, path, ctx) {
      const seen = new Map<unknown, string>();
      for (const [key, name] of Object.entries(value)) {
        const other = seen.get(name);
        if (other !== undefined) ctx.report(`${path}.${key}`, `is the same topic as ${path}.${other} (${JSON.stringify(name)}); every topic must be distinct`);
        else seen.set(name, key);
      }
    },
  },
);

const ingest = record('ingest', {
  allowedLateness: {
    node: duration(),
    output: 'allowedLatenessMs',
    default: 'PT1H',
    description: 'How long after a window ends (in stream time) it still accepts events; later ones go to the late topic.',
  },
  maxFutureSkew: {
    node: duration(),
    output: 'maxFutureSkewMs',
    default: 'PT5M',
    description: 'Events stamped further ahead of the wall clock than this are dead-lettered (before they can move stream time).',
  },
  dedupeRetention: {
    node: duration(),
    output: 'dedupeRetentionMs',
    default: 'P35D',
    description: 'How long (source, id) pairs are remembered to drop duplicates; at least windows.size + allowedLateness.',
  },
  keyedBySubject: {
    node: boolean(),
    default: false,
    description: 'True when producers already key events by subject (Kafka default partitioner), so the repartition by subject is skipped.',
  },
});

/** Every base window must fit evenly in 15 minutes, so local midnight in any zone (offsets are multiples of 15 min) is a window boundary. */
const QUARTER_HOUR_MS = 15 * 60_000;

const windows = record(
  'windows',
  {
    size: { node: duration(), output: 'sizeMs', default: 'PT1M', description: 'Base tumbling window; must divide 15 minutes evenly (PT30S, PT1M, PT5M, PT15M, ...).' },
    retention: { node: duration(), output: 'retentionMs', default: 'P35D', description: 'How long windows stay queryable; at least size + ingest.allowedLateness.' },
  },
  {
    check(value, path, ctx) {
      const size = value['sizeMs'];
      if (typeof size !== 'number' || (size > 0 && QUARTER_HOUR_MS % size === 0)) return;
      ctx.report(
        `${path}.size`,
        `${formatDurationMs(size)} does not divide 15 minutes evenly; use e.g. PT30S, PT1M, PT5M or PT15M ` +
          '(so local midnight in every IANA zone, including +05:30 and +05:45 offsets, is a window boundary)',
      );
    },
  },
);

/** What `valueProperty` points at, per aggregation. */
const VALUE_HINTS: Readonly<Record<Exclude<AggregationName, 'COUNT'>, string>> = {
  SUM: 'the JSONPath of the number to sum, e.g. $.tokens',
  AVG: 'the JSONPath of the number to average, e.g. $.latencyMs',
  MIN: 'the JSONPath of the number to take the minimum of, e.g. $.latencyMs',
  MAX: 'the JSONPath of the number to take the maximum of, e.g. $.seats',
  LATEST: 'the JSONPath of the number whose latest value is kept, e.g. $.seats',
  UNIQUE_COUNT: 'the JSONPath of the value whose distinct values are counted, e.g. $.userId',
};

function valuePropertyPresence(siblings: Readonly<Record<string, unknown>>): Presence {
  const aggregation = siblings['aggregation'] as AggregationName | undefined;
  if (aggregation === undefined) return 'optional';
  if (aggregation === 'COUNT') return { forbidden: 'for COUNT (COUNT counts events; remove it)' };
  return { required: `for ${aggregation} (${VALUE_HINTS[aggregation]})` };
}

const meter = record('meter', {
  slug: { node: slug('meter slug'), required: '(the meter name used in queries and records, e.g. api_requests)', description: 'Unique meter name.' },
  eventType: { node: text(), required: '(the CloudEvent type this meter reads, e.g. api.request)', description: 'CloudEvent `type` the meter aggregates.' },
  aggregation: { node: oneOf(aggregations), required: `(one of ${aggregations.join(', ')})`, description: 'How values combine within a window.' },
  valueProperty: {
    node: jsonPath(),
    presence: valuePropertyPresence,
    presenceDoc: 'Required unless aggregation is COUNT; not allowed for COUNT.',
    description: 'JSONPath into `data` of the value to aggregate.',
  },
  groupBy: {
    node: map('mapping of name → JSONPath', jsonPath(), SLUG, 'group-by names use only letters, digits, _ and -'),
    default: {},
    description: 'Dimensions: name → JSONPath into `data`; a missing path groups as the empty string.',
  },
});

const TOKEN = /^[\x21-\x7e]+$/;

/** Reads `tokensFile` (one token per line; blank lines and `#` comments skipped) into `tokens`. Never echoes a token. */
function mergeTokensFile(value: Record<string, unknown>, path: string, ctx: ParseContext): Record<string, unknown> {
  const { tokensFile, ...http } = value;
  const tokens = [...((http['tokens'] as string[] | undefined) ?? [])];
  if (typeof tokensFile === 'string') {
    const file = resolve(ctx.baseDir, tokensFile);
    try {
      readFileSync(file, 'utf8')
        .split(/\r?\n/)
        .forEach((line, index) => {
          const token = line.trim();
          if (token === '' || token.startsWith('#')) return;
          if (TOKEN.test(token)) tokens.push(token);
          else ctx.report(`${path}.tokensFile`, `line ${index + 1} of ${JSON.stringify(file)} is not a token (printable ASCII without spaces); put one token per line`);
        });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      ctx.report(`${path}.tokensFile`, `cannot read ${JSON.stringify(file)} (${code}); give a readable file with one token per line`);
    }
  }
  return { ...http, tokens: [...new Set(tokens)] };
}

const http = record(
  'http',
  {
    host: { node: text(), default: '127.0.0.1', description: 'Address the HTTP API listens on.' },
    port: { node: integer(0, 65_535), default: 8080, description: 'Port of the HTTP API (0: any free port).' },
    tokens: {
      node: list('list of strings', text({ pattern: TOKEN, hint: 'a token is printable ASCII without spaces', secret: true })),
      default: [],
      secret: true,
      description: 'Bearer tokens accepted on everything but /healthz, /readyz and /metrics. Never printed.',
    },
    tokensFile: {
      node: text(),
      description: 'File with more bearer tokens, one per line (blank lines and # comments skipped); relative to the config file. Merged into tokens.',
    },
    headersTimeout: {
      node: duration(),
      output: 'headersTimeoutMs',
      default: serviceLimitDefaults.headersTimeout,
      description: 'Longest time a client may take to send the request line and headers; a slower client gets 408 and its connection is closed. At most requestTimeout.',
    },
    requestTimeout: {
      node: duration(),
      output: 'requestTimeoutMs',
      default: serviceLimitDefaults.requestTimeout,
      description: 'Longest time a client may take to send a whole request, body included; a slower client gets 408 and its connection is closed.',
    },
    keepAliveTimeout: {
      node: duration(),
      output: 'keepAliveTimeoutMs',
      default: serviceLimitDefaults.keepAliveTimeout,
      description: 'How long an idle keep-alive connection stays open waiting for the next request.',
    },
    maxConnections: {
      node: integer(1, 1_000_000),
      default: serviceLimitDefaults.maxConnections,
      description: 'Most connections open at once; one more is closed as soon as it is accepted, without an answer.',
    },
  },
  {
    finish: mergeTokensFile,
    check(value, path, ctx) {
      positiveDurations({ headersTimeoutMs: 'headersTimeout', requestTimeoutMs: 'requestTimeout', keepAliveTimeoutMs: 'keepAliveTimeout' })(value, path, ctx);
      const headersMs = value['headersTimeoutMs'];
      const requestMs = value['requestTimeoutMs'];
      if (typeof headersMs === 'number' && typeof requestMs === 'number' && headersMs > requestMs) {
        ctx.report(`${path}.headersTimeout`, `${formatDurationMs(headersMs)} is longer than http.requestTimeout (${formatDurationMs(requestMs)}); the headers are part of the request: make it at most requestTimeout`);
      }
    },
  },
);

/** The whole of `tally.yaml`. */
export const configSchema: ConfigNode<Record<string, unknown>> = record(
  'tally.yaml',
  {
    app: { node: app, default: {}, description: 'The application: id, state, processing guarantee, shutdown time.' },
    kafka: { node: kafka, default: {}, description: 'Kafka connection.' },
    schemaRegistry: { node: schemaRegistry, description: 'Optional Confluent-compatible schema registry, for Avro events.' },
    topics: { node: topics, default: {}, description: 'Topic names.' },
    ingest: { node: ingest, default: {}, description: 'Event-time limits for incoming events.' },
    windows: { node: windows, default: {}, description: 'Meter windows.' },
    meters: {
      node: list('list of meters', meter, { nonEmpty: 'declare at least one meter', unique: { field: 'slug', label: 'meter slug' } }),
      required: '(the meters to compute, e.g. - { slug: api_requests, eventType: api.request, aggregation: COUNT })',
      description: 'Meters: which events to aggregate and how.',
    },
    customers: customersField,
    plans: plansField,
    http: { node: http, default: {}, description: 'The HTTP API: address, tokens, timeouts and connection limit.' },
  },
  { check: (value, _path, ctx) => checkConfigRules(value, ctx) },
);
