/**
 * Ground truth for the metering integration tests, computed from the input
 * alone — with BigInt fixed-point arithmetic, never with the pipeline's own
 * aggregation, decimal or key code — and the seeded event generator. Used by
 * the tests and by the metering app's config (the meters).
 */

/** The three meters every metering test runs (tally.yaml shape). */
export const testMeters = [
  { slug: 'api_requests', eventType: 'api.request', aggregation: 'COUNT', groupBy: { route: '$.route' } },
  { slug: 'tokens', eventType: 'llm.tokens', aggregation: 'SUM', valueProperty: '$.tokens' },
  { slug: 'peak', eventType: 'llm.tokens', aggregation: 'MAX', valueProperty: '$.concurrency' },
] as const;

export const windowMs = 60_000;

export type CloudEvent = { readonly id: string; readonly source: string; readonly type: string; readonly subject: string; readonly time: string; readonly data: Record<string, unknown> } & Record<string, unknown>;

/** A small deterministic PRNG (LCG), so a failing run can be replayed with its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * `count` valid events over `subjects` subjects (`customer-<n>`, or the names
 * given), times spread over [fromMs, toMs), about half api.request (with or
 * without a route) and half llm.tokens (tokens as numbers or decimal strings,
 * up to 3 decimals).
 */
export function generateEvents(options: { count: number; subjects: number | readonly string[]; fromMs: number; toMs: number; seed: number; idPrefix: string }): CloudEvent[] {
  const random = seededRandom(options.seed);
  const pick = (n: number): number => Math.floor(random() * n);
  const events: CloudEvent[] = [];
  for (let i = 0; i < options.count; i++) {
    const timeMs = options.fromMs + pick(options.toMs - options.fromMs);
    const subject = typeof options.subjects === 'number' ? `customer-${pick(options.subjects)}` : (options.subjects[pick(options.subjects.length)] as string);
    const base = { specversion: '1.0', id: `${options.idPrefix}-${i}`, source: `svc-${pick(2)}`, subject, time: new Date(timeMs).toISOString() };
    if (random() < 0.5) {
      const route = ['/a', '/b', '/c', undefined][pick(4)];
      events.push({ ...base, type: 'api.request', data: route === undefined ? {} : { route } });
    } else {
      const milli = pick(5_000_000);
      const tokens = random() < 0.5 ? milli / 1000 : `${Math.floor(milli / 1000)}.${String(milli % 1000).padStart(3, '0')}`;
      events.push({ ...base, type: 'llm.tokens', data: { tokens, concurrency: pick(64) } });
    }
  }
  return events;
}

// --- fixed-point decimals (3 places), independent of processors/decimal.ts ---

const scale = 1000n;

function toMilli(value: unknown): bigint {
  const text = typeof value === 'number' ? String(value) : (value as string);
  const match = /^(-?)(\d+)(?:\.(\d{1,3}))?$/.exec(text);
  if (match === null) throw new Error(`test data: ${JSON.stringify(value)} is not a decimal with at most 3 places`);
  const milli = BigInt(match[2] as string) * scale + BigInt((match[3] ?? '').padEnd(3, '0'));
  return match[1] === '-' ? -milli : milli;
}

function formatMilli(milli: bigint): string {
  const negative = milli < 0n;
  const abs = negative ? -milli : milli;
  const fraction = String(abs % scale).padStart(3, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${abs / scale}${fraction === '' ? '' : `.${fraction}`}`;
}

export interface MeterValue {
  readonly value: string;
  readonly count: number;
}

/**
 * What `tally-meters` must hold for these events (all valid and on time):
 * key `meter|subject|groupBy|windowStart` → value and event count. The first
 * copy of each (source, id) counts; later copies do not.
 */
export function meterTruth(events: readonly CloudEvent[]): Map<string, MeterValue> {
  const seen = new Set<string>();
  const acc = new Map<string, { milli: bigint; count: number }>();
  const add = (key: string, combine: (old: bigint | undefined) => bigint) => {
    const old = acc.get(key);
    acc.set(key, { milli: combine(old?.milli), count: (old?.count ?? 0) + 1 });
  };
  for (const e of events) {
    const identity = `${e.source}\u0000${e.id}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    const windowStart = new Date(Math.floor(Date.parse(e.time) / windowMs) * windowMs).toISOString();
    if (e.type === 'api.request') {
      const route = typeof e.data['route'] === 'string' ? e.data['route'] : '';
      add(`api_requests|${e.subject}|${JSON.stringify({ route })}|${windowStart}`, (old) => (old ?? 0n) + scale);
    } else if (e.type === 'llm.tokens') {
      const tokens = toMilli(e.data['tokens']);
      const concurrency = toMilli(e.data['concurrency']);
      add(`tokens|${e.subject}|{}|${windowStart}`, (old) => (old ?? 0n) + tokens);
      add(`peak|${e.subject}|{}|${windowStart}`, (old) => (old === undefined || concurrency > old ? concurrency : old));
    }
  }
  return new Map([...acc].map(([key, { milli, count }]) => [key, { value: formatMilli(milli), count }]));
}

/** The late records these (late) events must produce: `meter|eventId`, one per meter reading the type. */
export function lateTruth(events: readonly CloudEvent[]): string[] {
  return events.flatMap((e) => testMeters.filter((m) => m.eventType === e.type).map((m) => `${m.slug}|${e.id}`)).sort();
}

/** A readable difference between two maps (first few entries). */
export function mapDiff<V>(expected: ReadonlyMap<string, V>, actual: ReadonlyMap<string, V>, limit = 10): string {
  const lines: string[] = [];
  for (const [k, v] of expected) if (JSON.stringify(actual.get(k)) !== JSON.stringify(v)) lines.push(`  ${k}: expected ${JSON.stringify(v)}, got ${JSON.stringify(actual.get(k))}`);
  for (const k of actual.keys()) if (!expected.has(k)) lines.push(`  ${k}: unexpected ${JSON.stringify(actual.get(k))}`);
  return `${lines.length} difference(s) (expected ${expected.size} keys, got ${actual.size})\n${lines.slice(0, limit).join('\n')}`;
}

export function sameMap<V>(expected: ReadonlyMap<string, V>, actual: ReadonlyMap<string, V>): boolean {
  return expected.size === actual.size && [...expected].every(([k, v]) => JSON.stringify(actual.get(k)) === JSON.stringify(v));
}
