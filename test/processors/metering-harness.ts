/**
 * Shared fixtures for the metering tests: a small config, CloudEvent
 * builders, and a harness around the test driver that reads each output
 * topic as parsed records.
 */
import type { MeterConfig, TallyConfig } from '../../schemas/config-types.js';
import type { DeadLetterRecord, LateEventRecord, MeterRecord } from '../../schemas/records.js';
import { jsonSerde } from '../../schemas/index.js';
import { TopologyTestDriver } from '../../topology/index.js';
import { buildMeteringTopology, createMeteringCounters, type MeteringCounters, type MeteringTopologyOptions } from '../../processors/index.js';

export const minuteMs = 60_000;
/** 2024-01-01T00:00:00Z */
export const t0 = Date.parse('2024-01-01T00:00:00Z');
export const iso = (ms: number): string => new Date(ms).toISOString();

export const topics = { events: 'usage-events', meters: 'tally-meters', billing: 'tally-billing-details', late: 'tally-late-events', deadLetter: 'tally-dead-letter', customers: 'tally-customers', invoices: 'tally-invoices', entitlements: 'tally-entitlements', alerts: 'tally-alerts' };

export const defaultMeters: readonly MeterConfig[] = [
  { slug: 'api_requests', eventType: 'api.request', aggregation: 'COUNT', groupBy: { route: '$.route' } },
  { slug: 'tokens', eventType: 'llm.tokens', aggregation: 'SUM', valueProperty: '$.tokens', groupBy: {} },
];

export interface ConfigOverrides {
  readonly meters?: readonly MeterConfig[];
  readonly allowedLatenessMs?: number;
  readonly maxFutureSkewMs?: number;
  readonly dedupeRetentionMs?: number;
  readonly windowSizeMs?: number;
  readonly retentionMs?: number;
}

export function meteringConfig(overrides: ConfigOverrides = {}): TallyConfig {
  return {
    app: { id: 'tally', stateDir: '.tally/state', processingGuarantee: 'exactly_once', commitIntervalMs: 100, cacheMaxBytes: 64 * 1024 * 1024 },
    kafka: { brokers: ['127.0.0.1:9092'] },
    topics,
    ingest: {
      allowedLatenessMs: overrides.allowedLatenessMs ?? 0,
      maxFutureSkewMs: overrides.maxFutureSkewMs ?? 5 * minuteMs,
      dedupeRetentionMs: overrides.dedupeRetentionMs ?? 60 * minuteMs,
    },
    windows: { sizeMs: overrides.windowSizeMs ?? minuteMs, retentionMs: overrides.retentionMs ?? 60 * minuteMs },
    meters: overrides.meters ?? defaultMeters,
    customers: [],
    plans: [],
    http: { host: '127.0.0.1', port: 8080, tokens: [] },
  };
}

let nextId = 1;

/** A valid CloudEvent as an object; `timeMs` becomes `time`. */
export function cloudEvent(fields: { type?: string; subject?: string; id?: string; source?: string; timeMs?: number; data?: unknown } & Record<string, unknown> = {}): Record<string, unknown> {
  const { timeMs, ...rest } = fields;
  return {
    specversion: '1.0',
    id: `event-${nextId++}`,
    source: 'test',
    type: 'api.request',
    subject: 'customer-1',
    ...(timeMs === undefined ? {} : { time: iso(timeMs) }),
    data: {},
    ...rest,
  };
}

export interface HarnessOptions extends MeteringTopologyOptions {
  /** The driver's initial wall clock; default a day after t0, so test events are never in the future. */
  readonly wallClockMs0?: number;
  readonly stateDir?: string;
  readonly commitEveryRecords?: number;
  readonly partitions?: Readonly<Record<string, number>>;
  /** See TestDriverOptions.punctuationSliceMs. */
  readonly punctuationSliceMs?: number;
}

export class MeteringHarness {
  readonly driver: TopologyTestDriver;
  readonly counters: MeteringCounters;
  private readonly readers;

  private constructor(driver: TopologyTestDriver, counters: MeteringCounters) {
    this.driver = driver;
    this.counters = counters;
    this.readers = {
      meters: driver.outputTopic<string, MeterRecord>(topics.meters, undefined, jsonSerde()),
      late: driver.outputTopic<string, LateEventRecord>(topics.late, undefined, jsonSerde()),
      deadLetters: driver.outputTopic<string, DeadLetterRecord>(topics.deadLetter, undefined, jsonSerde()),
    };
  }

  static async start(config: TallyConfig = meteringConfig(), options: HarnessOptions = {}): Promise<MeteringHarness> {
    const counters = options.counters ?? createMeteringCounters();
    let driver: TopologyTestDriver | undefined;
    const topology = buildMeteringTopology(config, {
      ...options,
      counters,
      ...(options.keyedBySubject === true && options.wallClockMs === undefined ? { wallClockMs: () => (driver as TopologyTestDriver).wallClockMs } : {}),
    });
    driver = await TopologyTestDriver.create(topology, {
      applicationId: config.app.id,
      initialWallClockMs: options.wallClockMs0 ?? t0 + 24 * 60 * minuteMs,
      ...(options.stateDir === undefined ? {} : { stateDir: options.stateDir }),
      ...(options.commitEveryRecords === undefined ? {} : { commitEveryRecords: options.commitEveryRecords }),
      ...(options.partitions === undefined ? {} : { partitions: options.partitions }),
      ...(options.punctuationSliceMs === undefined ? {} : { punctuationSliceMs: options.punctuationSliceMs }),
    });
    return new MeteringHarness(driver, counters);
  }

  /** Pipes one record value: an object is sent as JSON, a string or Buffer as is. */
  async pipe(value: Record<string, unknown> | string | Buffer | null, options: { key?: string; partition?: number } = {}): Promise<void> {
    const bytes = value === null ? null : Buffer.isBuffer(value) ? value : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
    await this.driver.pipeRaw(topics.events, options.key === undefined ? null : Buffer.from(options.key), bytes, options.partition === undefined ? {} : { partition: options.partition });
  }

  async pipeAll(values: readonly (Record<string, unknown> | string)[]): Promise<void> {
    for (const value of values) await this.pipe(value);
  }

  /** Meter records written since the last call. */
  meters(): MeterRecord[] {
    return this.readers.meters.readValues() as MeterRecord[];
  }

  meterRecords() {
    return this.readers.meters.readRecords();
  }

  late(): LateEventRecord[] {
    return this.readers.late.readValues() as LateEventRecord[];
  }

  deadLetters(): DeadLetterRecord[] {
    return this.readers.deadLetters.readValues() as DeadLetterRecord[];
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}
