import { describe, expect, it } from 'vitest';
import { QueryError, parseMeterQuery, queryErrorBody, type MeterQuery } from '../../processors/query/index.js';
import { configWith, minuteMs } from './query-fixtures.js';

const range = 'from=2024-01-01T00:00:00Z&to=2024-01-02T00:00:00Z';

function parse(query: string, options: { windowSizeMs?: number; slug?: string } = {}): MeterQuery {
  return parseMeterQuery(new URLSearchParams(query), configWith(options.windowSizeMs ?? minuteMs), options.slug);
}

/** The QueryError a parse throws; fails the test when it does not throw one. */
function errorOf(query: string, options: { windowSizeMs?: number; slug?: string } = {}): QueryError {
  try {
    parse(query, options);
  } catch (error) {
    if (error instanceof QueryError) return error;
    throw error;
  }
  throw new Error(`expected ${query} to be refused`);
}

describe('parseMeterQuery: meter', () => {
  it('defaults to UTC, no windowSize, every subject merged and no grouping', () => {
    const query = parse(`meter=requests&${range}`);
    expect(query).toEqual({
      meter: 'requests',
      aggregation: 'COUNT',
      baseWindowSizeMs: minuteMs,
      fromMs: Date.parse('2024-01-01T00:00:00Z'),
      toMs: Date.parse('2024-01-02T00:00:00Z'),
      windowSize: undefined,
      windowTimeZone: 'UTC',
      subjects: [],
      groupBySubject: false,
      groupBy: [],
      filterGroupBy: {},
    });
    expect(Object.isFrozen(query)).toBe(true);
  });

  it('takes the meter from the path slug when given', () => {
    expect(parse(range, { slug: 'tokens' }).meter).toBe('tokens');
  });

  it('refuses a meter parameter that disagrees with the path slug', () => {
    const error = errorOf(`meter=requests&${range}`, { slug: 'tokens' });
    expect([error.status, error.code]).toEqual([400, 'query-invalid']);
  });

  it('answers 404 for an unknown meter and lists the configured ones', () => {
    const error = errorOf(`meter=nope&${range}`);
    expect([error.status, error.code]).toEqual([404, 'query-meter-unknown']);
    expect(error.message).toContain('the meters are "tokens", "requests", "latency", "users", "seats"');
  });

  it('requires a meter when there is no path slug', () => {
    expect(errorOf(range).message).toMatch(/^meter is required/);
  });

  it('refuses unknown parameters and names the known ones', () => {
    const error = errorOf(`meter=tokens&${range}&windowsize=HOUR`);
    expect(error.status).toBe(400);
    expect(error.message).toContain('"windowsize"');
    expect(error.message).toContain('windowSize');
  });

  it('refuses a parameter given twice', () => {
    expect(errorOf(`meter=tokens&${range}&from=2024-01-01T00:01:00Z`).message).toMatch(/from is given 2 times/);
  });
});

describe('parseMeterQuery: from and to', () => {
  it('requires both from and to', () => {
    expect(errorOf('meter=tokens&to=2024-01-02T00:00:00Z').message).toMatch(/^from is required/);
    expect(errorOf('meter=tokens&from=2024-01-01T00:00:00Z').message).toMatch(/^to is required/);
  });

  it.each(['2024-01-01', '2024-01-01T00:00:00', '1704067200000', '2024-02-30T00:00:00Z', '2024-01-01T24:00:00Z', 'yesterday'])(
    'refuses %s, which is not an RFC 3339 instant with an offset',
    (text) => {
      const error = errorOf(`meter=tokens&from=${text}&to=2024-03-01T00:00:00Z`);
      expect(error.status).toBe(400);
      expect(error.message).toContain('is not an RFC 3339 instant');
    },
  );

  it('reads an offset, lowercase separators and a space between date and time', () => {
    const query = parse('meter=tokens&from=2024-01-01T05:30:00%2B05:30&to=2024-01-02t00:00:00z');
    expect(new Date(query.fromMs).toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(new Date(query.toMs).toISOString()).toBe('2024-01-02T00:00:00.000Z');
    expect(parse('meter=tokens&from=2024-01-01%2000:00:00Z&to=2024-01-02T00:00:00Z').fromMs).toBe(Date.parse('2024-01-01T00:00:00Z'));
  });

  it('reads a "+" offset that URL decoding turned into a space', () => {
    const query = parse('meter=tokens&from=2024-01-01T05:30:00+05:30&to=2024-01-02T00:00:00Z');
    expect(new Date(query.fromMs).toISOString()).toBe('2024-01-01T00:00:00.000Z');
  });

  it('refuses an instant off the base window and names the window size and the nearest aligned instants', () => {
    const error = errorOf('meter=tokens&from=2024-01-01T00:07:00Z&to=2024-01-02T00:00:00Z', { windowSizeMs: 5 * minuteMs });
    expect(error.status).toBe(400);
    expect(error.message).toContain('PT5M');
    expect(error.message).toContain('use 2024-01-01T00:05:00.000Z or 2024-01-01T00:10:00.000Z');
  });

  it('refuses sub-millisecond digits as off the base window', () => {
    expect(errorOf('meter=tokens&from=2024-01-01T00:00:00.0000001Z&to=2024-01-02T00:00:00Z').message).toContain('not aligned');
  });

  it('refuses from equal to or after to', () => {
    expect(errorOf('meter=tokens&from=2024-01-01T00:00:00Z&to=2024-01-01T00:00:00Z').message).toMatch(/must be before to/);
    expect(errorOf('meter=tokens&from=2024-01-02T00:00:00Z&to=2024-01-01T00:00:00Z').message).toMatch(/must be before to/);
  });
});

describe('parseMeterQuery: windows and zones', () => {
  it.each(['WEEK', 'hour', ''])('refuses windowSize %j and lists the valid sizes', (size) => {
    const error = errorOf(`meter=tokens&${range}&windowSize=${size}`);
    expect(error.status).toBe(400);
    expect(error.message).toMatch(size === '' ? /windowSize is empty/ : /MINUTE, HOUR, DAY, MONTH/);
  });

  it('refuses a windowSize smaller than the base window', () => {
    const error = errorOf(`meter=tokens&${range}&windowSize=MINUTE`, { windowSizeMs: 5 * minuteMs });
    expect(error.message).toContain('smaller than the base window (windows.size PT5M)');
    expect(parse(`meter=tokens&${range}&windowSize=HOUR`, { windowSizeMs: 5 * minuteMs }).windowSize).toBe('HOUR');
  });

  it('refuses a time zone that is not IANA', () => {
    expect(errorOf(`meter=tokens&${range}&windowTimeZone=Mars/Olympus`).message).toContain('"Mars/Olympus" is not an IANA time zone');
  });

  it('keeps the IANA zone as given', () => {
    expect(parse(`meter=tokens&${range}&windowTimeZone=America/Los_Angeles`).windowTimeZone).toBe('America/Los_Angeles');
  });

  it('refuses hourly buckets in Asia/Kolkata over one-hour base windows, whose boundaries fall at :30', () => {
    const error = errorOf(`meter=tokens&${range}&windowSize=HOUR&windowTimeZone=Asia/Kolkata`, { windowSizeMs: 60 * minuteMs });
    expect(error.message).toContain('boundary at 2024-01-01T00:30:00.000Z');
    expect(parse(`meter=tokens&${range}&windowSize=DAY&windowTimeZone=America/Los_Angeles`, { windowSizeMs: 60 * minuteMs }).windowSize).toBe('DAY');
  });
});

describe('parseMeterQuery: subjects and groups', () => {
  it('splits by subject when subjects are filtered, deduplicated and sorted', () => {
    const query = parse(`meter=tokens&${range}&subject=b&subject=a&subject=b`);
    expect([query.subjects, query.groupBySubject]).toEqual([['a', 'b'], true]);
  });

  it('treats groupBy=subject as splitting by subject, not as a group-by key', () => {
    const query = parse(`meter=requests&${range}&groupBy=subject&groupBy=route`);
    expect([query.groupBySubject, query.groupBy]).toEqual([true, ['route']]);
  });

  it('refuses an unknown groupBy name and lists the valid ones', () => {
    expect(errorOf(`meter=requests&${range}&groupBy=region`).message).toContain('use one of "subject", "method", "route"');
  });

  it('reads filterGroupBy per key, an empty value matching a missing group-by value', () => {
    const query = parse(`meter=requests&${range}&filterGroupBy%5Bmethod%5D=GET&filterGroupBy[route]=`);
    expect(query.filterGroupBy).toEqual({ method: 'GET', route: '' });
  });

  it('refuses filterGroupBy on a key the meter does not have', () => {
    expect(errorOf(`meter=requests&${range}&filterGroupBy[region]=eu`).message).toContain('use one of "method", "route"');
    expect(errorOf(`meter=tokens&${range}&filterGroupBy[subject]=a`).message).toContain('subject=');
  });

  it('refuses two values for one filterGroupBy key', () => {
    expect(errorOf(`meter=requests&${range}&filterGroupBy[route]=a&filterGroupBy[route]=b`).message).toContain('give one value per key');
  });
});

describe('queryErrorBody', () => {
  it('wraps the code and message under "error"', () => {
    const error = errorOf(`meter=nope&${range}`);
    expect(queryErrorBody(error)).toEqual({ error: { code: 'query-meter-unknown', message: error.message } });
  });
});
