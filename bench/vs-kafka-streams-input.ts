/**
 * The input of the side-by-side benchmark against Kafka Streams, and what a
 * correct run must find in it: CloudEvents keyed by subject, for three meters
 * (api_requests COUNT by route, tokens SUM, seats LATEST), event times spread
 * evenly over a span (one hour by default) of May 2024 — an old backlog, so
 * every window is long closed by the wall clock — and every `1 / duplicateShare`-th
 * record an exact copy of an event sent shortly before (a producer's retry).
 * Deterministic for given options.
 */
import type { Admin, Kafka } from 'kafkajs';
import { createTopics } from './bench-kit.js';

export interface SideBySideInput {
  readonly topic: string;
  /** Records to write, duplicates included. */
  readonly events: number;
  readonly subjects: number;
  readonly partitions: number;
  /** Share of records that repeat an earlier event (0..1). */
  readonly duplicateShare: number;
  /** Event times cover [fromMs, fromMs + spanMs). */
  readonly fromMs: number;
  readonly spanMs: number;
}

/** What every correct contender's final records add up to (windows closed, nothing late). */
export interface ExpectedTotals {
  readonly uniqueEvents: number;
  readonly duplicates: number;
  /** Distinct (meter, subject, group, window) over the three meters. */
  readonly windows: number;
  /** Sum of the api_requests COUNT over all windows: the api.request events. */
  readonly requests: number;
  /** Sum of the tokens SUM over all windows, in quarters (every value is a whole number + 0.25). */
  readonly tokenQuarters: number;
}

export const windowSizeMs = 60_000;
const routes = ['/v1/chat', '/v1/embed', '/v1/files', '/v1/models'];
/** Tally's meters for this input; the Kafka Streams peer hard-codes the same three. */
export const sideBySideMeters = [
  { slug: 'api_requests', eventType: 'api.request', aggregation: 'COUNT', groupBy: { route: '$.route' } },
  { slug: 'tokens', eventType: 'llm.tokens', aggregation: 'SUM', valueProperty: '$.tokens' },
  { slug: 'seats', eventType: 'seats.set', aggregation: 'LATEST', valueProperty: '$.seats' },
] as const;

interface Generated {
  readonly subject: string;
  readonly value: string;
  /** A number naming the event's (meter, subject, group, window) uniquely. */
  readonly window: number;
  readonly requests: number;
  readonly tokenQuarters: number;
}

/** Unique event number `u` of `uniqueEvents`: 60 % api.request, 35 % llm.tokens, 5 % seats.set. */
function generate(u: number, uniqueEvents: number, input: SideBySideInput): Generated {
  const h = Math.imul(u + 1, 2654435761) >>> 0;
  const subjectIndex = h % input.subjects;
  const subject = `customer-${subjectIndex}`;
  const offsetMs = Math.floor((u * input.spanMs) / uniqueEvents);
  const time = new Date(input.fromMs + offsetMs).toISOString();
  const kind = (h >>> 8) % 100;
  let type: string;
  let data: Record<string, number | string>;
  let slot: number;
  if (kind < 60) {
    slot = (h >>> 4) % routes.length;
    type = 'api.request';
    data = { route: routes[slot] as string };
  } else if (kind < 95) {
    slot = routes.length;
    type = 'llm.tokens';
    data = { tokens: ((h >>> 12) % 1000) + 0.25 };
  } else {
    slot = routes.length + 1;
    type = 'seats.set';
    data = { seats: (h >>> 20) % 50 };
  }
  const value = JSON.stringify({ specversion: '1.0', id: `e-${u}`, source: 'bench', type, subject, time, data });
  const windowIndex = Math.floor(offsetMs / windowSizeMs);
  return {
    subject,
    value,
    window: (windowIndex * input.subjects + subjectIndex) * (routes.length + 2) + slot,
    requests: kind < 60 ? 1 : 0,
    tokenQuarters: kind >= 60 && kind < 95 ? (((h >>> 12) % 1000) * 4 + 1) : 0,
  };
}

/** Creates the input topic, writes the input to it and returns what a correct run finds in it. */
export async function writeInput(kafka: Kafka, admin: Admin, input: SideBySideInput): Promise<ExpectedTotals> {
  await createTopics(admin, { [input.topic]: input.partitions });
  const every = input.duplicateShare > 0 ? Math.round(1 / input.duplicateShare) : 0;
  const duplicates = every > 0 ? Math.floor(input.events / every) : 0;
  const uniqueEvents = input.events - duplicates;
  const windows = new Set<number>();
  let requests = 0;
  let tokenQuarters = 0;
  const recent: { key: string; value: string }[] = [];
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let batch: { key: string; value: string }[] = [];
  for (let n = 0, u = 0; n < input.events; n++) {
    let message: { key: string; value: string };
    if (every > 0 && n % every === every - 1) {
      // A retry of an event sent ~100 records earlier: same key, so the same partition, and the same bytes.
      message = recent[Math.max(0, recent.length - 100)] as { key: string; value: string };
    } else {
      const event = generate(u++, uniqueEvents, input);
      windows.add(event.window);
      requests += event.requests;
      tokenQuarters += event.tokenQuarters;
      message = { key: event.subject, value: event.value };
      recent.push(message);
      if (recent.length > 200) recent.splice(0, 100);
    }
    batch.push(message);
    // 2 000 records (~0.4 MB) per request: the broker refuses a partition's batch over 1 MB.
    if (batch.length === 2_000 || n === input.events - 1) {
      await producer.send({ topic: input.topic, messages: batch, acks: -1 });
      batch = [];
    }
  }
  await producer.disconnect();
  return { uniqueEvents, duplicates, windows: windows.size, requests, tokenQuarters };
}
