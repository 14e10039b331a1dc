import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../schemas/index.js';
import { parseConfig } from '../../schemas/config.js';
import { problemsAfter, problemsOf, validConfig } from './config-helpers.js';

describe('config validation reports every problem at once', () => {
  it('lists problems from several sections in one ConfigError, each with its path', () => {
    let error: unknown;
    try {
      parseConfig('app: { commitIntervalMs: 0 }\nwindows: { size: P1M }\nmeters:\n  - { slug: a, eventType: x, aggregation: SUMM }\n');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('config-invalid');
    expect((error as ConfigError).problems).toEqual([
      'app.commitIntervalMs: 0 is out of range; use an integer 1..3600000',
      'windows.size: "P1M" uses months or years, whose length depends on the calendar; use days or weeks instead, e.g. P30D or P5W',
      'meters[0].aggregation: unknown "SUMM"; use one of SUM, COUNT, UNIQUE_COUNT, AVG, MIN, MAX, LATEST (did you mean SUM?)',
    ]);
    expect((error as ConfigError).message).toContain('invalid configuration:\n  app.commitIntervalMs: 0 is out of range');
  });
});

describe('meters', () => {
  it('requires meters, with an example', () => {
    expect(problemsOf('app: { id: tally }\n')).toEqual([
      'meters: required (the meters to compute, e.g. - { slug: api_requests, eventType: api.request, aggregation: COUNT })',
    ]);
  });

  it('refuses an empty meter list', () => {
    expect(problemsOf({ meters: [] })).toEqual(['meters: must not be empty; declare at least one meter']);
  });

  it('requires valueProperty for every aggregation but COUNT, saying what it points at', () => {
    const meters = ['SUM', 'AVG', 'MIN', 'MAX', 'LATEST', 'UNIQUE_COUNT'].map((aggregation, index) => ({ slug: `m${index}`, eventType: 'x', aggregation }));
    expect(problemsOf({ meters })).toEqual([
      'meters[0].valueProperty: required for SUM (the JSONPath of the number to sum, e.g. $.tokens)',
      'meters[1].valueProperty: required for AVG (the JSONPath of the number to average, e.g. $.latencyMs)',
      'meters[2].valueProperty: required for MIN (the JSONPath of the number to take the minimum of, e.g. $.latencyMs)',
      'meters[3].valueProperty: required for MAX (the JSONPath of the number to take the maximum of, e.g. $.seats)',
      'meters[4].valueProperty: required for LATEST (the JSONPath of the number whose latest value is kept, e.g. $.seats)',
      'meters[5].valueProperty: required for UNIQUE_COUNT (the JSONPath of the value whose distinct values are counted, e.g. $.userId)',
    ]);
  });

  it('refuses valueProperty on a COUNT meter', () => {
    expect(problemsAfter((config) => (config['meters'][0].valueProperty = '$.n'))).toEqual([
      'meters[0].valueProperty: not allowed for COUNT (COUNT counts events; remove it)',
    ]);
  });

  it('refuses an unknown aggregation and lists the known ones', () => {
    expect(problemsAfter((config) => (config['meters'][1].aggregation = 'TOTAL'))).toEqual([
      'meters[1].aggregation: unknown "TOTAL"; use one of SUM, COUNT, UNIQUE_COUNT, AVG, MIN, MAX, LATEST',
    ]);
  });

  it('refuses a bad JSONPath in valueProperty and groupBy, with the JSONPath message', () => {
    expect(
      problemsAfter((config) => {
        config['meters'][1].valueProperty = '$.a[*]';
        config['meters'][0].groupBy = { route: 'route' };
      }),
    ).toEqual([
      `meters[0].groupBy.route: invalid JSONPath "route" at position 0: a path starts with $ (the event's data), e.g. $.route; supported: $, .name, ['name'], ["name"] and [0] (no filters, wildcards, slices, recursive descent or scripts)`,
      `meters[1].valueProperty: invalid JSONPath "$.a[*]" at position 3: wildcards (*) are not supported; supported: $, .name, ['name'], ["name"] and [0] (no filters, wildcards, slices, recursive descent or scripts)`,
    ]);
  });

  it('refuses group-by names that are not slugs', () => {
    expect(problemsAfter((config) => (config['meters'][0].groupBy = { 'a b': '$.x' }))).toEqual([
      'meters[0].groupBy["a b"]: name "a b" is not allowed; group-by names use only letters, digits, _ and -',
    ]);
  });

  it('refuses duplicate and malformed slugs', () => {
    expect(
      problemsAfter((config) => {
        config['meters'][1].slug = 'api_requests';
        config['meters'].push({ slug: 'api.requests', eventType: 'x', aggregation: 'COUNT' });
      }),
    ).toEqual([
      'meters[1].slug: duplicate meter slug "api_requests" (also at meters[0].slug); meter slugs must be unique',
      'meters[2].slug: "api.requests" is not allowed; a meter slug uses only letters, digits, _ and - (it becomes part of record keys)',
      'plans[0].charges[0].meter: unknown meter "tokens"; use one of api_requests',
    ]);
  });

  it('reports a missing required key and a stray list item', () => {
    expect(problemsOf('meters:\n  - { slug: a, aggregation: COUNT }\n  -\n')).toEqual([
      'meters[0].eventType: required (the CloudEvent type this meter reads, e.g. api.request)',
      'meters[1]: is empty; remove the stray "-" or fill it in',
    ]);
  });
});

describe('unknown keys', () => {
  it('are reported with "did you mean" when a declared key is close', () => {
    expect(
      problemsAfter((config) => {
        config['meters'][1].valueProprety = '$.x';
        config['windows'] = { sise: 'PT1M' };
        config['meter'] = [];
      }),
    ).toEqual([
      'meter: unknown key (did you mean meters?)',
      'windows.sise: unknown key (did you mean size?)',
      'meters[1].valueProprety: unknown key (did you mean valueProperty?)',
    ]);
  });

  it('list the allowed keys when nothing is close', () => {
    expect(problemsAfter((config) => (config['app'] = { colour: 'blue' }))).toEqual([
      'app.colour: unknown key; allowed here: id, stateDir, processingGuarantee, commitIntervalMs, cacheMaxBytes, fetchMaxBytes, internalRecordFormat, shutdownTimeout',
    ]);
  });
});

describe('sections with defaults', () => {
  it('name the internal record formats when app.internalRecordFormat is not one, with the closest', () => {
    expect(problemsAfter((config) => void (config['app'] = { internalRecordFormat: 'binry' }))).toEqual(['app.internalRecordFormat: unknown "binry"; use one of binary, json (did you mean binary?)']);
    expect(problemsAfter((config) => void (config['app'] = { internalRecordFormat: true }))).toEqual(['app.internalRecordFormat: must be one of binary, json; got a boolean']);
  });

  it('refuse an app.fetchMaxBytes below 1 KiB or above 1 GiB, with the range', () => {
    expect(problemsAfter((config) => void (config['app'] = { fetchMaxBytes: 512 }))).toEqual(['app.fetchMaxBytes: 512 is out of range; use an integer 1024..1073741824']);
    expect(problemsAfter((config) => void (config['app'] = { fetchMaxBytes: 2 ** 31 }))).toEqual(['app.fetchMaxBytes: 2147483648 is out of range; use an integer 1024..1073741824']);
  });

  it('check types and ranges with the fix', () => {
    expect(
      problemsAfter((config) => {
        config['app'] = { id: 'my app', processingGuarantee: 'exactly-once', commitIntervalMs: 1.5 };
        config['kafka'] = { brokers: ['localhost'], ssl: 'yes' };
        config['http'] = { port: 70000, host: 8080 };
        config['schemaRegistry'] = { url: 'registry:8081' };
        config['ingest'] = { keyedBySubject: 'yes' };
      }),
    ).toEqual([
      'app.id: "my app" is not allowed; use letters, digits, ., _ and - (it prefixes topics and transactional ids)',
      'app.processingGuarantee: unknown "exactly-once"; use one of exactly_once, at_least_once (did you mean exactly_once?)',
      'app.commitIntervalMs: must be an integer 1..3600000; got 1.5',
      'kafka.brokers[0]: "localhost" is not allowed; write host:port, e.g. "127.0.0.1:9092"',
      'kafka.ssl: must be true, false or a mapping of TLS options; got a string',
      'schemaRegistry.url: must be an http:// or https:// URL, e.g. "http://127.0.0.1:8081/apis/ccompat/v7"',
      'ingest.keyedBySubject: must be true or false; got a string',
      'http.host: must be a string; got a number; quote it: "8080"',
      'http.port: 70000 is out of range; use an integer 0..65535',
    ]);
  });

  it('require every topic to be distinct', () => {
    expect(problemsAfter((config) => (config['topics'] = { late: 'tally-dead-letter' }))).toEqual([
      'topics.deadLetter: is the same topic as topics.late ("tally-dead-letter"); every topic must be distinct',
    ]);
  });

  it('require a non-empty broker list', () => {
    expect(problemsAfter((config) => (config['kafka'] = { brokers: [] }))).toEqual(['kafka.brokers: must not be empty; list at least one broker, e.g. ["127.0.0.1:9092"]']);
  });
});

describe('durations and windows', () => {
  it('refuses a duration that is not ISO-8601', () => {
    expect(problemsAfter((config) => (config['ingest'] = { maxFutureSkew: '5m' }))).toEqual([
      'ingest.maxFutureSkew: "5m" is not an ISO-8601 duration; write it as e.g. PT1M, PT5M, PT1H, P35D (uppercase, P then days, T then hours/minutes/seconds)',
    ]);
  });

  it('refuses a YAML number as a duration', () => {
    expect(problemsAfter((config) => (config['ingest'] = { allowedLateness: 3600 }))).toEqual([
      'ingest.allowedLateness: must be a duration; got a number; quote it: "3600"',
    ]);
  });

  it('requires windows.size to divide 15 minutes evenly, and says why', () => {
    const why = '(so local midnight in every IANA zone, including +05:30 and +05:45 offsets, is a window boundary)';
    expect(problemsAfter((config) => (config['windows'] = { size: 'PT7M' }))).toEqual([
      `windows.size: PT7M does not divide 15 minutes evenly; use e.g. PT30S, PT1M, PT5M or PT15M ${why}`,
    ]);
    expect(problemsAfter((config) => (config['windows'] = { size: 'PT1H' }))).toEqual([
      `windows.size: PT1H does not divide 15 minutes evenly; use e.g. PT30S, PT1M, PT5M or PT15M ${why}`,
    ]);
    expect(problemsAfter((config) => (config['windows'] = { size: 'PT0S' }))[0]).toContain('windows.size: PT0S does not divide 15 minutes evenly');
  });

  it('accepts every size that divides 15 minutes', () => {
    for (const size of ['PT1S', 'PT30S', 'PT45S', 'PT1M', 'PT3M', 'PT5M', 'PT15M']) {
      expect(parseConfig(JSON.stringify({ ...validConfig(), windows: { size } })).windows.retentionMs).toBe(35 * 86_400_000);
    }
  });

  it('requires dedupeRetention and windows.retention to cover windows.size + allowedLateness', () => {
    expect(
      problemsAfter((config) => {
        config['ingest'] = { allowedLateness: 'PT2H', dedupeRetention: 'PT2H' };
        config['windows'] = { size: 'PT5M', retention: 'PT1H' };
      }),
    ).toEqual([
      'ingest.dedupeRetention: PT2H is shorter than windows.size + ingest.allowedLateness (PT2H5M); make it at least PT2H5M (a late duplicate must still be recognised)',
      'windows.retention: PT1H is shorter than windows.size + ingest.allowedLateness (PT2H5M); make it at least PT2H5M (a window must be kept until it can no longer change)',
    ]);
  });

  it('accepts a retention exactly equal to windows.size + allowedLateness', () => {
    const config = parseConfig(JSON.stringify({ ...validConfig(), ingest: { allowedLateness: 'PT1H', dedupeRetention: 'PT1H1M' }, windows: { retention: 'PT1H1M' } }));
    expect(config.ingest.dedupeRetentionMs).toBe(3_660_000);
  });
});
