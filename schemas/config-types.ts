/**
 * The validated, frozen shape of `tally.yaml` (README.md, "Configuration"). Field names are the
 * external contract. Durations are parsed to milliseconds (the `Ms` fields);
 * money and prices stay decimal strings.
 */

export const aggregations = ['SUM', 'COUNT', 'UNIQUE_COUNT', 'AVG', 'MIN', 'MAX', 'LATEST'] as const;
export type AggregationName = (typeof aggregations)[number];

export const processingGuarantees = ['exactly_once', 'at_least_once'] as const;
export type ProcessingGuarantee = (typeof processingGuarantees)[number];

/** How internal records (store values, changelogs, repartition topics) are written; both are always read. */
export const internalRecordFormats = ['binary', 'json'] as const;
export type InternalRecordFormat = (typeof internalRecordFormats)[number];

export const chargeModels = ['per_unit', 'graduated', 'volume', 'package', 'time_of_day'] as const;
export type ChargeModel = (typeof chargeModels)[number];

export interface AppConfig {
  readonly id: string;
  readonly stateDir: string;
  readonly processingGuarantee: ProcessingGuarantee;
  readonly commitIntervalMs: number;
  /** Bytes all record caches of the instance may hold together (estimated). */
  readonly cacheMaxBytes: number;
  /**
   * Most bytes one fetch returns (Kafka's fetch.max.bytes). Always set by
   * parseConfig; a config built in code may leave it out ({@link defaultFetchMaxBytes}).
   */
  readonly fetchMaxBytes?: number;
  /**
   * How store values, changelogs and repartition topics are written: `binary`
   * (compact) or `json` (what versions before the binary form read). Both are
   * always read. Set by parseConfig; absent in a config built in code means `binary`.
   */
  readonly internalRecordFormat?: InternalRecordFormat;
  /**
   * Longest time from SIGTERM or a pipeline failure to the exit of `tally run`.
   * Always set by parseConfig; a config built in code may leave it out ({@link serviceLimitDefaults}).
   */
  readonly shutdownTimeoutMs?: number;
}

export interface KafkaConfig {
  readonly brokers: readonly string[];
  readonly clientId?: string;
  /** Passed through to kafkajs. */
  readonly ssl?: boolean | Readonly<Record<string, unknown>>;
  readonly sasl?: Readonly<Record<string, unknown>>;
}

export interface SchemaRegistryConfig {
  readonly url: string;
}

export interface TopicsConfig {
  readonly events: string;
  readonly meters: string;
  readonly billing: string;
  readonly late: string;
  readonly deadLetter: string;
  readonly customers: string;
  /** Output, compacted: one invoice per customer and billing period. */
  readonly invoices: string;
  /** Output, compacted: usage against each entitlement per customer and billing period. */
  readonly entitlements: string;
  /** Output: one record per alert threshold crossed, per entitlement and billing period. */
  readonly alerts: string;
}

export interface IngestConfig {
  readonly allowedLatenessMs: number;
  readonly maxFutureSkewMs: number;
  readonly dedupeRetentionMs: number;
  /**
   * Producers already key usage events by subject (with Kafka's default
   * partitioner), so the repartition by subject is skipped. Default false.
   */
  readonly keyedBySubject?: boolean;
}

export interface WindowsConfig {
  readonly sizeMs: number;
  readonly retentionMs: number;
}

export interface MeterConfig {
  readonly slug: string;
  readonly eventType: string;
  readonly aggregation: AggregationName;
  /** JSONPath into `data`; absent only for COUNT. */
  readonly valueProperty?: string;
  /** Group-by name → JSONPath into `data`. */
  readonly groupBy: Readonly<Record<string, string>>;
}

export interface CustomerConfig {
  readonly id: string;
  readonly subjects: readonly string[];
  readonly timezone: string;
  readonly currency: string;
  /** Local date `YYYY-MM-DD`; monthly periods start on its day of month. */
  readonly billingAnchor: string;
  /** One plan from the beginning of time, never cancelled. Exactly one of `plan` and `subscriptions` is set. */
  readonly plan?: string;
  /** Plans over time, ordered by `from`; each runs until the next one's `from` (or `cancelledAt`). */
  readonly subscriptions?: readonly SubscriptionConfig[];
  /** RFC 3339 instant: the last subscription ends here (exclusive). Only with `subscriptions`. */
  readonly cancelledAt?: string;
  /** Usage allowances per billing period, with alert thresholds. */
  readonly entitlements?: readonly EntitlementConfig[];
}

/** A usage allowance per billing period on one meter (optionally filtered), with alert thresholds. */
export interface EntitlementConfig {
  /** Unique within the customer. */
  readonly key: string;
  readonly meter: string;
  /** As a charge's filter: only usage whose group-by values match every entry counts. */
  readonly filter?: ChargeFilter;
  /** Positive decimal string: the usage allowed per billing period. */
  readonly limit: string;
  /** Percents of `limit` (integers > 0, strictly increasing; above 100 allowed); each alerts once per period. */
  readonly alerts: readonly number[];
}

export interface SubscriptionConfig {
  readonly plan: string;
  /** RFC 3339 instant (inclusive), as written. */
  readonly from: string;
}

/** Group-by key → the value (or any of the values) a charge prices. */
export type ChargeFilter = Readonly<Record<string, string | readonly string[]>>;

export interface Tier {
  /** Inclusive upper bound; absent on the last (open) tier. */
  readonly upTo?: number;
  readonly unitPrice: string;
  readonly flatFee?: string;
}

export interface TimeOfDayInterval {
  /** Local time `HH:mm`, inclusive. */
  readonly from: string;
  /** Local time `HH:mm`, exclusive; `24:00` is the end of the day. */
  readonly to: string;
  readonly unitPrice: string;
}

export interface ChargeConfig {
  readonly key: string;
  readonly meter: string;
  readonly model: ChargeModel;
  readonly flatFee?: string;
  readonly unitPrice?: string;
  readonly tiers?: readonly Tier[];
  readonly packageSize?: number;
  readonly packagePrice?: string;
  readonly freeUnits?: number;
  readonly intervals?: readonly TimeOfDayInterval[];
  /** Prices only usage whose group-by values match every entry. */
  readonly filter?: ChargeFilter;
}

export interface PlanConfig {
  readonly key: string;
  readonly charges: readonly ChargeConfig[];
}

export interface HttpConfig {
  readonly host: string;
  readonly port: number;
  /** Bearer tokens; never logged. */
  readonly tokens: readonly string[];
  // The limits below are always set by parseConfig; a config built in code may leave them out ({@link serviceLimitDefaults}).
  /** Longest time to receive a request's line and headers (at most `requestTimeoutMs`). */
  readonly headersTimeoutMs?: number;
  /** Longest time to receive a whole request, body included. */
  readonly requestTimeoutMs?: number;
  /** How long an idle keep-alive connection is kept open. */
  readonly keepAliveTimeoutMs?: number;
  /** Most connections open at once; more are closed when accepted. */
  readonly maxConnections?: number;
}

/**
 * Default of `app.fetchMaxBytes`: 10 MiB, kafkajs's own. Smaller fetches
 * hold less in memory, but cost throughput (docs/performance.md).
 */
export const defaultFetchMaxBytes = 10 * 1024 * 1024;

/**
 * Defaults of the service's time and connection limits (`app.shutdownTimeout`,
 * `http.*Timeout`, `http.maxConnections`), as the config schema declares them.
 */
export const serviceLimitDefaults = {
  shutdownTimeout: 'PT30S',
  headersTimeout: 'PT10S',
  requestTimeout: 'PT30S',
  keepAliveTimeout: 'PT5S',
  maxConnections: 1_024,
} as const;

export interface TallyConfig {
  readonly app: AppConfig;
  readonly kafka: KafkaConfig;
  readonly schemaRegistry?: SchemaRegistryConfig;
  readonly topics: TopicsConfig;
  readonly ingest: IngestConfig;
  readonly windows: WindowsConfig;
  readonly meters: readonly MeterConfig[];
  readonly customers: readonly CustomerConfig[];
  readonly plans: readonly PlanConfig[];
  readonly http: HttpConfig;
}
