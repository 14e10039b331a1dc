/**
 * The demo's prose: what is about to happen (customers, meters, topics), and
 * with --keep, where to look while it keeps running.
 */
import type { TallyConfig } from '../../schemas/config-types.js';
import type { DemoCluster } from './demo-cluster.js';

export function scenarioLines(config: TallyConfig, cluster: DemoCluster): string[] {
  const meters = config.meters.map((m) => `${m.slug} (${m.aggregation} of ${m.eventType}${m.valueProperty === undefined ? '' : ` ${m.valueProperty}`})`);
  return [
    `Tally demo on Kafka ${cluster.brokers.join(',')}${config.schemaRegistry === undefined ? '' : `, schema registry ${config.schemaRegistry.url}`}`,
    `  meters:    ${meters.join(', ')}; ${config.windows.sizeMs / 60_000}-minute windows, events accepted up to ${config.ingest.allowedLatenessMs / 60_000} minutes late`,
    ...config.customers.map((c) => `  customer:  ${c.id.padEnd(5)} ${c.timezone.padEnd(20)} ${c.currency}  plan ${(c.plan ?? c.subscriptions?.map((s) => s.plan).join('>') ?? '').padEnd(8)} subjects ${c.subjects.join(', ')}`),
    `  outputs:   ${config.topics.meters}, ${config.topics.billing}, ${config.topics.invoices}, ${config.topics.alerts}, ${config.topics.late}, ${config.topics.deadLetter} (read committed; times UTC)`,
    '',
  ];
}

/** Window-aligned (minute) instants around now, for a sample query. */
function queryRange(nowMs: number): { from: string; to: string } {
  const minuteMs = 60_000;
  const toMs = Math.floor(nowMs / minuteMs) * minuteMs + minuteMs;
  return { from: new Date(toMs - 10 * minuteMs).toISOString(), to: new Date(toMs).toISOString() };
}

export function keepRunningHints(config: TallyConfig, httpUrl: string, cluster: DemoCluster, nowMs = Date.now()): string[] {
  const { from, to } = queryRange(nowMs);
  const query = `${httpUrl}/v1/meters/tokens/query?from=${from}&to=${to}&windowSize=MINUTE&subject=acme-prod`;
  return [
    '',
    `Still running (--keep): windows close ${config.ingest.allowedLatenessMs / 60_000} minutes after they end (final meter records); new output keeps printing.`,
    `  HTTP API:  ${httpUrl}  (bearer token ${config.http.tokens[0] ?? '(none)'})`,
    `  try:       curl -H 'Authorization: Bearer ${config.http.tokens[0] ?? ''}' '${query}'`,
    `             curl -H 'Authorization: Bearer ${config.http.tokens[0] ?? ''}' '${httpUrl}/v1/customers/acme/entitlements'`,
    `  Kafka:     ${cluster.brokers.join(',')}  (input topic ${config.topics.events})`,
    'Ctrl-C stops everything and cleans up.',
  ];
}
