/**
 * Shared fixtures for the rating tests: a config with customers and plans,
 * and a harness around the metering harness that seeds the customers topic
 * and reads billing details and dead letters.
 */
import type { BillingDetailRecord } from '../../schemas/billing-detail.js';
import type { InvoiceRecord } from '../../schemas/invoice.js';
import type { ChargeConfig, CustomerConfig, MeterConfig, PlanConfig, TallyConfig } from '../../schemas/config-types.js';
import type { CustomerRecord } from '../../schemas/customer-record.js';
import type { DeadLetterRecord } from '../../schemas/records.js';
import { jsonSerde } from '../../schemas/index.js';
import { createRatingCounters, customerTableRecords, type RatingCounters } from '../../processors/index.js';
import { cloudEvent, meteringConfig, MeteringHarness, minuteMs, topics, type HarnessOptions } from './metering-harness.js';

export const hourMs = 60 * minuteMs;
export const dayMs = 24 * hourMs;

export const ratingMeters: readonly MeterConfig[] = [
  { slug: 'api_requests', eventType: 'api.request', aggregation: 'COUNT', groupBy: { route: '$.route' } },
  { slug: 'tokens', eventType: 'llm.tokens', aggregation: 'SUM', valueProperty: '$.tokens', groupBy: {} },
  { slug: 'seats', eventType: 'seats.set', aggregation: 'LATEST', valueProperty: '$.seats', groupBy: {} },
  { slug: 'peak', eventType: 'peak.gauge', aggregation: 'MAX', valueProperty: '$.value', groupBy: {} },
  { slug: 'users', eventType: 'user.seen', aggregation: 'UNIQUE_COUNT', valueProperty: '$.user', groupBy: {} },
];

export const acme: CustomerConfig = { id: 'acme', subjects: ['acme-prod', 'acme-dev'], timezone: 'America/Los_Angeles', currency: 'USD', billingAnchor: '2024-01-01', plan: 'pro' };

export const perUnitTokens: ChargeConfig = { key: 'tokens', meter: 'tokens', model: 'per_unit', unitPrice: '0.001', flatFee: '5' };

export interface RatingConfigOverrides {
  readonly customers?: readonly CustomerConfig[];
  readonly plans?: readonly PlanConfig[];
  readonly meters?: readonly MeterConfig[];
  readonly allowedLatenessMs?: number;
  readonly windowSizeMs?: number;
}

export function ratingConfig(overrides: RatingConfigOverrides = {}): TallyConfig {
  const base = meteringConfig({
    meters: overrides.meters ?? ratingMeters,
    allowedLatenessMs: overrides.allowedLatenessMs ?? hourMs,
    maxFutureSkewMs: 400 * dayMs,
    dedupeRetentionMs: 40 * dayMs,
    retentionMs: 40 * dayMs,
    ...(overrides.windowSizeMs === undefined ? {} : { windowSizeMs: overrides.windowSizeMs }),
  });
  return { ...base, customers: overrides.customers ?? [acme], plans: overrides.plans ?? [{ key: 'pro', charges: [perUnitTokens] }] };
}

/** A usage event for `subject` at an ISO instant. */
export function usage(type: string, subject: string, time: string, data: Record<string, unknown> = {}): Record<string, unknown> {
  return cloudEvent({ type, subject, time, data });
}

export class RatingHarness {
  readonly metering: MeteringHarness;
  readonly counters: RatingCounters;
  private readonly billingReader;
  private readonly deadLetterReader;
  private readonly invoicesReader;

  private constructor(metering: MeteringHarness, counters: RatingCounters) {
    this.metering = metering;
    this.counters = counters;
    this.billingReader = metering.driver.outputTopic<string, BillingDetailRecord>(topics.billing, undefined, jsonSerde());
    this.deadLetterReader = metering.driver.outputTopic<string, DeadLetterRecord>(topics.deadLetter, undefined, jsonSerde());
    this.invoicesReader = metering.driver.outputTopic<string, InvoiceRecord>(topics.invoices, undefined, jsonSerde());
  }

  /** Starts the topology and pipes the config's customers into the customers topic. */
  static async start(config: TallyConfig = ratingConfig(), options: HarnessOptions = {}): Promise<RatingHarness> {
    const counters = createRatingCounters();
    const metering = await MeteringHarness.start(config, { wallClockMs0: Date.parse('2025-06-01T00:00:00Z'), ...options, ratingCounters: counters });
    const harness = new RatingHarness(metering, counters);
    for (const { key, value } of customerTableRecords(config)) await harness.putCustomer(key, value);
    return harness;
  }

  get driver() {
    return this.metering.driver;
  }

  /** Writes (or, with null, deletes) one row of the customers table. */
  putCustomer(subject: string, value: CustomerRecord | null): Promise<void> {
    return this.driver.pipeRaw(topics.customers, Buffer.from(subject), value === null ? null : Buffer.from(JSON.stringify(value)));
  }

  pipe(...events: Record<string, unknown>[]): Promise<void> {
    return this.metering.pipeAll(events);
  }

  /** Billing details emitted since the last call. */
  billing(): BillingDetailRecord[] {
    return this.billingReader.readValues() as BillingDetailRecord[];
  }

  billingRecords() {
    return this.billingReader.readRecords();
  }

  /** Invoices emitted since the last call. */
  invoices(): InvoiceRecord[] {
    return this.invoicesReader.readValues() as InvoiceRecord[];
  }

  invoiceRecords() {
    return this.invoicesReader.readRecords();
  }

  deadLetters(): DeadLetterRecord[] {
    return this.deadLetterReader.readValues() as DeadLetterRecord[];
  }

  close(): Promise<void> {
    return this.metering.close();
  }
}

/** Harnesses started by `startTracked`, closed by `closeTracked` (call it in `afterEach`). */
const tracked: RatingHarness[] = [];

export async function startTracked(...args: Parameters<typeof RatingHarness.start>): Promise<RatingHarness> {
  const h = await RatingHarness.start(...args);
  tracked.push(h);
  return h;
}

export async function closeTracked(): Promise<void> {
  for (const h of tracked.splice(0)) await h.close();
}
