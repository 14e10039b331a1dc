/**
 * A running service for the OpenMeter-compatible API tests, and the usage
 * they send: api.request and llm.tokens events around an hour boundary of
 * Asia/Kolkata (UTC+05:30, so at hh:30 UTC), where UTC hours and Kolkata
 * hours split the same events differently. The expectations in the tests are
 * worked out by hand from these events.
 */
import { parseConfig, type TallyConfig } from '../../schemas/index.js';
import { ensureTopics } from '../../service/topics/index.js';
import { tempStateDir, uniqueName } from '../kafka/kafka-helpers.js';
import { minuteMs, serviceDocument } from '../service/service-fixtures.js';

export const customers = [
  { id: 'acme', subjects: ['acme-prod', 'acme-dev'] },
  { id: 'kumo', subjects: ['kumo-web'] },
] as const;

/** The service's config: the test meters, two customers, one-minute windows, three hours of allowed lateness. */
export async function prepareOpenMeterService(prefix: string): Promise<TallyConfig> {
  const document = serviceDocument({ appId: uniqueName(prefix), stateDir: await tempStateDir(), customers });
  const config = parseConfig(JSON.stringify({ ...document, ingest: { allowedLateness: 'PT3H', maxFutureSkew: 'PT5M', dedupeRetention: 'P1D' } }), `${prefix} tally.yaml`);
  await ensureTopics(config, { create: true, partitions: 2 });
  return config;
}

/** The latest hh:30:00Z at least ten minutes ago: an hour boundary in Asia/Kolkata, not in UTC. */
export function kolkataHourBoundaryMs(nowMs = Date.now()): number {
  const halfHourMs = 30 * minuteMs;
  const latest = Math.floor((nowMs - 10 * minuteMs) / halfHourMs) * halfHourMs;
  return new Date(latest).getUTCMinutes() === 30 ? latest : latest - halfHourMs;
}

export interface SentEvent {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject: string;
  readonly time: Date;
  readonly data: Record<string, unknown>;
}

/**
 * The usage, with `b` the Kolkata hour boundary:
 *
 *   api.request  acme-prod /a  b-5m   (sent twice: a duplicate)
 *   api.request  acme-prod /b  b+2m
 *   api.request  acme-dev  /a  b+3m
 *   llm.tokens   acme-prod 120   b-5m
 *   llm.tokens   acme-dev  3.5   b+2m
 *   llm.tokens   kumo-web  7     b+3m
 */
export function usage(b: number): { requests: SentEvent[]; tokens: SentEvent[] } {
  const at = (minutes: number) => new Date(b + minutes * minuteMs);
  const request = (id: string, subject: string, route: string, minutes: number): SentEvent => ({ id, source: 'openmeter-test', type: 'api.request', subject, time: at(minutes), data: { route } });
  const tokens = (id: string, subject: string, amount: number, minutes: number): SentEvent => ({ id, source: 'openmeter-test', type: 'llm.tokens', subject, time: at(minutes), data: { tokens: amount, concurrency: 1 } });
  return {
    requests: [request('r1', 'acme-prod', '/a', -5), request('r2', 'acme-prod', '/b', 2), request('r3', 'acme-dev', '/a', 3)],
    tokens: [tokens('t1', 'acme-prod', 120, -5), tokens('t2', 'acme-dev', 3.5, 2), tokens('t3', 'kumo-web', 7, 3)],
  };
}
