import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError } from '../../schemas/index.js';
import { describeConfigSchema, loadConfig, parseConfig, redactConfig } from '../../schemas/config.js';
import { fixturePath, problemsOf, readFixture, validConfig } from './config-helpers.js';

describe('parseConfig with the golden fixtures', () => {
  it('reads the full example (test/fixtures/tally.yaml) into the validated shape, durations in ms', () => {
    const config = parseConfig(readFixture('tally.yaml'));
    expect(config.app).toEqual({ id: 'tally', stateDir: '.tally/state', processingGuarantee: 'exactly_once', commitIntervalMs: 100, cacheMaxBytes: 16_777_216, fetchMaxBytes: 10_485_760, internalRecordFormat: 'binary', shutdownTimeoutMs: 30_000 });
    expect(config.schemaRegistry).toEqual({ url: 'http://127.0.0.1:8081/apis/ccompat/v7' });
    expect(config.ingest).toEqual({ allowedLatenessMs: 3_600_000, maxFutureSkewMs: 300_000, dedupeRetentionMs: 35 * 86_400_000, keyedBySubject: false });
    expect(config.windows).toEqual({ sizeMs: 60_000, retentionMs: 35 * 86_400_000 });
    expect(config.meters.map((meter) => meter.slug)).toEqual(['api_requests', 'tokens', 'seats', 'cpu_seconds']);
    expect(config.meters[0]).toEqual({ slug: 'api_requests', eventType: 'api.request', aggregation: 'COUNT', groupBy: { route: '$.route' } });
    expect(config.meters[1]).toEqual({ slug: 'tokens', eventType: 'llm.tokens', aggregation: 'SUM', valueProperty: '$.tokens', groupBy: {} });
    expect(config.customers).toEqual([
      {
        id: 'acme',
        subjects: ['acme-prod', 'acme-dev'],
        timezone: 'America/Los_Angeles',
        currency: 'USD',
        billingAnchor: '2024-01-15',
        plan: 'pro',
        entitlements: [{ key: 'tokens-monthly', meter: 'tokens', limit: '1000000', alerts: [80, 100] }],
      },
    ]);
    const [base, requests, bundles, compute] = config.plans[0]?.charges ?? [];
    expect(base).toEqual({ key: 'base', meter: 'tokens', model: 'per_unit', flatFee: '5', unitPrice: '0.001' });
    expect(requests?.tiers).toEqual([{ upTo: 1000, unitPrice: '0' }, { upTo: 10000, unitPrice: '0.002', flatFee: '1' }, { unitPrice: '0.001' }]);
    expect(bundles).toEqual({ key: 'bundles', meter: 'api_requests', model: 'package', packageSize: 10, packagePrice: '100', freeUnits: 10 });
    expect(compute?.intervals).toEqual([
      { from: '00:00', to: '06:00', unitPrice: '0.02' },
      { from: '06:00', to: '24:00', unitPrice: '0.03' },
    ]);
  });

  it('fills every default around a single meter (minimal.yaml)', () => {
    expect(parseConfig(readFixture('minimal.yaml'))).toEqual({
      app: { id: 'tally', stateDir: '.tally/state', processingGuarantee: 'exactly_once', commitIntervalMs: 100, cacheMaxBytes: 16_777_216, fetchMaxBytes: 10_485_760, internalRecordFormat: 'binary', shutdownTimeoutMs: 30_000 },
      kafka: { brokers: ['127.0.0.1:9092'] },
      topics: {
        events: 'usage-events',
        meters: 'tally-meters',
        billing: 'tally-billing-details',
        late: 'tally-late-events',
        deadLetter: 'tally-dead-letter',
        customers: 'tally-customers',
        invoices: 'tally-invoices',
        entitlements: 'tally-entitlements',
        alerts: 'tally-alerts',
      },
      ingest: { allowedLatenessMs: 3_600_000, maxFutureSkewMs: 300_000, dedupeRetentionMs: 35 * 86_400_000, keyedBySubject: false },
      windows: { sizeMs: 60_000, retentionMs: 35 * 86_400_000 },
      meters: [{ slug: 'api_requests', eventType: 'api.request', aggregation: 'COUNT', groupBy: {} }],
      customers: [],
      plans: [],
      http: { host: '127.0.0.1', port: 8080, tokens: [], headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000, maxConnections: 1_024 },
    });
  });

  it('fills defaults key by key inside a section that is partly given', () => {
    const config = parseConfig(stringify({ ...validConfig(), app: { id: 'billing' }, ingest: { allowedLateness: 'PT2H', keyedBySubject: true } }));
    expect(config.app).toEqual({ id: 'billing', stateDir: '.tally/state', processingGuarantee: 'exactly_once', commitIntervalMs: 100, cacheMaxBytes: 16_777_216, fetchMaxBytes: 10_485_760, internalRecordFormat: 'binary', shutdownTimeoutMs: 30_000 });
    expect(config.ingest).toEqual({ allowedLatenessMs: 7_200_000, maxFutureSkewMs: 300_000, dedupeRetentionMs: 35 * 86_400_000, keyedBySubject: true });
  });

  it('defaults freeUnits to 0 on package charges only', () => {
    const input = validConfig();
    input['plans'][0].charges.push({ key: 'bundles', meter: 'api_requests', model: 'package', packageSize: 10, packagePrice: '100' });
    const charges = parseConfig(stringify(input)).plans[0]?.charges;
    expect(charges?.[1]?.freeUnits).toBe(0);
    expect(charges?.[0]).not.toHaveProperty('freeUnits');
  });

  it('passes kafka ssl and sasl options through as given', () => {
    const input = { ...validConfig(), kafka: { brokers: ['b1:9093', 'b2:9093'], clientId: 'meter', ssl: true, sasl: { mechanism: 'plain', username: 'u', password: 'p' } } };
    expect(parseConfig(stringify(input)).kafka).toEqual(input.kafka);
  });
});

describe('the parsed config is deeply frozen', () => {
  it('throws on any mutation, at any depth, in strict mode', () => {
    const config = parseConfig(readFixture('tally.yaml')) as any;
    expect(() => {
      config.app.id = 'other';
    }).toThrow(TypeError);
    expect(() => {
      config.meters.push({});
    }).toThrow(TypeError);
    expect(() => {
      config.meters[0].groupBy.route = '$.x';
    }).toThrow(TypeError);
    expect(() => {
      config.plans[0].charges[1].tiers[0].unitPrice = '1';
    }).toThrow(TypeError);
    expect(() => {
      config.customers[0].subjects[0] = 'x';
    }).toThrow(TypeError);
    expect(Object.isFrozen(config.http.tokens)).toBe(true);
  });
});

describe('YAML syntax errors', () => {
  it('are reported with the source name, line and column', () => {
    expect(problemsOf('meters:\n  - { slug: a, eventType: x, aggregation: COUNT }\n plans: []\n')).toEqual([
      'tally.yaml:3:1: YAML syntax error: All mapping items must start at the same column',
    ]);
    expect(problemsOf('meters: []\nplans: [ { key: pro\n')[0]).toMatch(/^tally\.yaml:3:1: YAML syntax error: Flow map in block collection must be sufficiently indented and end with a }/);
  });

  it('report duplicate keys with their line', () => {
    expect(problemsOf('meters: []\nhttp: { port: 1 }\nhttp: { port: 2 }\n')[0]).toMatch(/^tally\.yaml:3:1: YAML syntax error: Map keys must be unique/);
  });

  it('never quote the offending source line, which could hold a token', () => {
    const error = (() => {
      try {
        parseConfig('http: { tokens: ["s3cr3t-token-value" }\n');
      } catch (caught) {
        return caught as ConfigError;
      }
      throw new Error('expected a syntax error');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/tally\.yaml:1:\d+: YAML syntax error/);
    expect(error.message).not.toContain('s3cr3t');
  });

  it('refuse an empty file and a file that is not a mapping', () => {
    expect(problemsOf('')).toEqual(['tally.yaml: is empty; a config is a YAML mapping that declares at least meters (see the tally.yaml reference)']);
    expect(problemsOf('- a\n- b\n')[0]).toBe('tally.yaml: is not a mapping; a config is a YAML mapping that declares at least meters (see the tally.yaml reference)');
  });
});

describe('loadConfig', () => {
  it('reads a file from disk', async () => {
    const config = await loadConfig(fixturePath('tally.yaml'));
    expect(config.plans[0]?.key).toBe('pro');
  });

  it('says which file is missing', async () => {
    await expect(loadConfig('/nonexistent/tally.yaml')).rejects.toThrow('/nonexistent/tally.yaml: cannot read the config file (ENOENT); pass an existing file with --config');
  });

  it('resolves http.tokensFile against the config file and merges its tokens with http.tokens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tally-config-'));
    writeFileSync(join(dir, 'tokens.txt'), '# service tokens\nfile-token-1\n\n  file-token-2  \ninline-token\n');
    writeFileSync(join(dir, 'tally.yaml'), stringify({ ...validConfig(), http: { tokens: ['inline-token'], tokensFile: 'tokens.txt' } }));
    const config = await loadConfig(join(dir, 'tally.yaml'));
    expect(config.http.tokens).toEqual(['inline-token', 'file-token-1', 'file-token-2']);
    expect(config.http).not.toHaveProperty('tokensFile');
  });
});

describe('secrets', () => {
  it('never appear in validation messages, even for bad tokens', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tally-tokens-'));
    writeFileSync(join(dir, 'tokens.txt'), 'file secret with spaces\n');
    const problems = problemsOf({ ...validConfig(), http: { tokens: ['inline secret with spaces', 12345678, ''], tokensFile: 'tokens.txt' } }, { baseDir: dir });
    expect(problems).toEqual([
      'http.tokens[0]: is not allowed; a token is printable ASCII without spaces',
      'http.tokens[1]: must be a string; got a number',
      'http.tokens[2]: must not be empty',
      `http.tokensFile: line 1 of ${JSON.stringify(join(dir, 'tokens.txt'))} is not a token (printable ASCII without spaces); put one token per line`,
    ]);
    expect(problems.join('\n')).not.toMatch(/secret|12345678/);
  });

  it('report an unreadable tokensFile with its resolved path', () => {
    expect(problemsOf({ ...validConfig(), http: { tokensFile: 'missing-tokens.txt' } }, { baseDir: '/nonexistent' })).toEqual([
      'http.tokensFile: cannot read "/nonexistent/missing-tokens.txt" (ENOENT); give a readable file with one token per line',
    ]);
  });

  it('are redacted in the printable form: tokens, SASL credentials, TLS keys and registry URL credentials', () => {
    const config = parseConfig(
      stringify({
        ...validConfig(),
        kafka: { brokers: ['b:9093'], ssl: { ca: 'CA-PEM', key: 'KEY-PEM', passphrase: 'pass-phrase' }, sasl: { mechanism: 'scram-sha-512', username: 'svc-user', password: 'sasl-password' } },
        schemaRegistry: { url: 'https://reg-user:reg-password@registry.example/apis/ccompat/v7' },
        http: { tokens: ['bearer-one', 'bearer-two'] },
      }),
    );
    const printed = JSON.stringify(redactConfig(config));
    for (const secret of ['bearer-one', 'bearer-two', 'sasl-password', 'svc-user', 'KEY-PEM', 'pass-phrase', 'reg-password', 'reg-user']) expect(printed).not.toContain(secret);
    const redacted = redactConfig(config) as any;
    expect(redacted.http.tokens).toEqual(['[redacted]', '[redacted]']);
    expect(redacted.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: '[redacted]', password: '[redacted]' });
    expect(redacted.kafka.ssl).toEqual({ ca: 'CA-PEM', key: '[redacted]', passphrase: '[redacted]' });
    expect(redacted.schemaRegistry.url).toBe('https://redacted@registry.example/apis/ccompat/v7');
    expect(redacted.meters).toEqual(config.meters);
    expect(config.http.tokens).toEqual(['bearer-one', 'bearer-two']);
  });
});

describe('describeConfigSchema', () => {
  const reference = describeConfigSchema();
  const keys = [
    'app.id', 'app.stateDir', 'app.processingGuarantee', 'app.commitIntervalMs', 'app.cacheMaxBytes', 'app.fetchMaxBytes', 'app.internalRecordFormat', 'app.shutdownTimeout',
    'kafka.brokers', 'kafka.clientId', 'kafka.ssl', 'kafka.sasl', 'schemaRegistry.url',
    'topics.events', 'topics.meters', 'topics.billing', 'topics.late', 'topics.deadLetter', 'topics.customers', 'topics.invoices', 'topics.entitlements', 'topics.alerts',
    'ingest.allowedLateness', 'ingest.maxFutureSkew', 'ingest.dedupeRetention', 'ingest.keyedBySubject', 'windows.size', 'windows.retention',
    'meters', 'meters[].slug', 'meters[].eventType', 'meters[].aggregation', 'meters[].valueProperty', 'meters[].groupBy',
    'customers', 'customers[].id', 'customers[].subjects', 'customers[].timezone', 'customers[].currency', 'customers[].billingAnchor',
    'customers[].subscriptions', 'customers[].subscriptions[].plan', 'customers[].subscriptions[].from', 'customers[].plan', 'customers[].cancelledAt',
    'customers[].entitlements', 'customers[].entitlements[].key', 'customers[].entitlements[].meter', 'customers[].entitlements[].filter',
    'customers[].entitlements[].limit', 'customers[].entitlements[].alerts',
    'plans', 'plans[].key', 'plans[].charges', 'plans[].charges[].key', 'plans[].charges[].meter', 'plans[].charges[].model',
    'plans[].charges[].unitPrice', 'plans[].charges[].flatFee', 'plans[].charges[].tiers', 'plans[].charges[].tiers[].upTo',
    'plans[].charges[].tiers[].unitPrice', 'plans[].charges[].tiers[].flatFee', 'plans[].charges[].packageSize',
    'plans[].charges[].packagePrice', 'plans[].charges[].freeUnits', 'plans[].charges[].intervals',
    'plans[].charges[].intervals[].from', 'plans[].charges[].intervals[].to', 'plans[].charges[].intervals[].unitPrice', 'plans[].charges[].filter',
    'http.host', 'http.port', 'http.tokens', 'http.tokensFile', 'http.headersTimeout', 'http.requestTimeout', 'http.keepAliveTimeout', 'http.maxConnections',
  ];

  it('renders one markdown table row for every key, and no others', () => {
    const rows = [...reference.matchAll(/^\| `([^`]+)` \|/gm)].map((match) => match[1]);
    expect(rows.sort()).toEqual([...keys].sort());
  });

  it('shows defaults as written in YAML and marks required keys', () => {
    expect(reference).toContain('| `ingest.allowedLateness` | duration | `PT1H` |');
    expect(reference).toContain('| `kafka.brokers` | list of host:port | `["127.0.0.1:9092"]` |');
    expect(reference).toContain('| `meters[].slug` | string | required |');
    expect(reference).toContain('Required unless aggregation is COUNT; not allowed for COUNT.');
    expect(reference).toContain('Only for package (required).');
  });

  it('lists the rules that span sections', () => {
    expect(reference).toContain('## Rules across sections');
    expect(reference).toContain('- ingest.dedupeRetention is at least windows.size + ingest.allowedLateness');
    expect(reference).toContain('- A subject belongs to at most one customer.');
  });
});
