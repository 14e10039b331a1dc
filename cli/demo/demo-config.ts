/**
 * The demo's built-in tally.yaml: three meters, three customers in three
 * zones and currencies, and one plan each; between them the plans use all
 * five charge models. acme has a token allowance that one alert reports. Only the Kafka connection, the registry and the names
 * change from run to run.
 */
import { parseConfig } from '../../schemas/config.js';
import type { TallyConfig } from '../../schemas/config-types.js';

export const demoMeters = [
  { slug: 'api_requests', eventType: 'api.request', aggregation: 'COUNT', groupBy: { route: '$.route' } },
  { slug: 'tokens', eventType: 'llm.tokens', aggregation: 'SUM', valueProperty: '$.tokens' },
  { slug: 'seats', eventType: 'seats.set', aggregation: 'MAX', valueProperty: '$.seats' },
] as const;

export const demoCustomers = [
  {
    id: 'acme',
    subjects: ['acme-prod', 'acme-dev'],
    timezone: 'America/Los_Angeles',
    currency: 'USD',
    billingAnchor: '2024-01-15',
    plan: 'pro',
    // The sample stream sends acme 9,700 tokens: 100 % alerts once, 1000 % never does.
    entitlements: [{ key: 'tokens-monthly', meter: 'tokens', limit: '8000', alerts: [100, 1000] }],
  },
  { id: 'bolt', subjects: ['bolt-api'], timezone: 'Europe/Budapest', currency: 'EUR', billingAnchor: '2024-03-01', plan: 'starter' },
  { id: 'kumo', subjects: ['kumo-web'], timezone: 'Asia/Tokyo', currency: 'JPY', billingAnchor: '2024-02-29', plan: 'pro-jp' },
] as const;

const demoPlans = [
  {
    key: 'pro',
    charges: [
      { key: 'base', meter: 'tokens', model: 'per_unit', flatFee: '5', unitPrice: '0.002' },
      { key: 'requests', meter: 'api_requests', model: 'graduated', tiers: [{ upTo: 20, unitPrice: '0' }, { upTo: 100, unitPrice: '0.05', flatFee: '1' }, { unitPrice: '0.02' }] },
      { key: 'seats', meter: 'seats', model: 'per_unit', unitPrice: '12' },
    ],
  },
  {
    key: 'starter',
    charges: [
      { key: 'tokens', meter: 'tokens', model: 'package', packageSize: 1000, packagePrice: '3', freeUnits: 500 },
      { key: 'requests', meter: 'api_requests', model: 'volume', tiers: [{ upTo: 20, unitPrice: '0.04' }, { unitPrice: '0.03' }] },
      { key: 'seats', meter: 'seats', model: 'per_unit', unitPrice: '9' },
    ],
  },
  {
    key: 'pro-jp',
    charges: [
      {
        key: 'tokens',
        meter: 'tokens',
        model: 'time_of_day',
        intervals: [{ from: '00:00', to: '09:00', unitPrice: '0.2' }, { from: '09:00', to: '24:00', unitPrice: '0.3' }],
      },
      { key: 'requests', meter: 'api_requests', model: 'graduated', tiers: [{ upTo: 20, unitPrice: '0' }, { unitPrice: '6', flatFee: '100' }] },
      { key: 'seats', meter: 'seats', model: 'per_unit', unitPrice: '1500' },
    ],
  },
] as const;

export interface DemoConfigOptions {
  readonly brokers: readonly string[];
  /** ssl / sasl / clientId from the user's config, passed through. */
  readonly kafkaExtras?: Readonly<Record<string, unknown>>;
  readonly registryUrl: string | undefined;
  readonly stateDir: string;
  readonly appId: string;
  /** Prefix of the nine topic names ('' for the default names). */
  readonly topicPrefix: string;
  /** The one bearer token the demo's HTTP API accepts. */
  readonly httpToken: string;
}

/** The demo config, validated like any tally.yaml. */
export function demoConfig(options: DemoConfigOptions): TallyConfig {
  const p = options.topicPrefix;
  const document = {
    app: { id: options.appId, stateDir: options.stateDir, processingGuarantee: 'exactly_once', commitIntervalMs: 100 },
    kafka: { ...options.kafkaExtras, brokers: [...options.brokers] },
    ...(options.registryUrl === undefined ? {} : { schemaRegistry: { url: options.registryUrl } }),
    topics: {
      events: `${p}usage-events`,
      meters: `${p}tally-meters`,
      billing: `${p}tally-billing-details`,
      late: `${p}tally-late-events`,
      deadLetter: `${p}tally-dead-letter`,
      customers: `${p}tally-customers`,
      invoices: `${p}tally-invoices`,
      entitlements: `${p}tally-entitlements`,
      alerts: `${p}tally-alerts`,
    },
    // The sample stream spans the last 3 minutes: well inside windows.size + allowedLateness, so only the planted late event is late.
    ingest: { allowedLateness: 'PT5M', maxFutureSkew: 'PT5M', dedupeRetention: 'PT1H' },
    windows: { size: 'PT1M', retention: 'PT1H' },
    meters: demoMeters,
    customers: demoCustomers,
    plans: demoPlans,
    http: { host: '127.0.0.1', port: 0, tokens: [options.httpToken] },
  };
  return parseConfig(JSON.stringify(document), 'the demo config');
}
