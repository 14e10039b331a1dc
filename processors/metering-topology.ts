/**
 * Wires the metering half of the pipeline (docs/metering.md, "The topology") with stable node,
 * store and topic names:
 *
 * ```
 * usage-events ─▶ ingest-events ─┬─▶ dead-letter-sink          (tally-dead-letter)
 *                                └─▶ events-by-subject-sink    (<app>-events-by-subject-repartition)
 * events-by-subject-source ─▶ dedupe-events [dedupe] ─▶ aggregate-meters [meter-<slug>…, meter-close-state]
 *                                                        ├─▶ meters-sink       (tally-meters)
 *                                                        └─▶ late-events-sink  (tally-late-events)
 * ```
 *
 * When the config declares plans, rating is wired on (`addRatingNodes`): the
 * meter aggregate also forwards a delta per window change of every meter to
 * the customers join (which keeps those some plan or entitlement counts), and a third sub-topology rates usage by
 * customer into `tally-billing-details` (see processors/rating/), and tracks
 * customers' entitlements beside it (see processors/entitlements/).
 *
 * Stream time. Windows close by the task's stream time, which the runtime
 * takes from the source's timestamp extractor. Only valid, non-future events
 * may move it (one event stamped 2099 must not close every window). So the
 * ingest source's extractor returns null (the ingest sub-topology has no
 * windows and never needs stream time); the ingest processor decides
 * validity and the future bound against the wall clock, and stamps each valid
 * event with its event time on the repartition topic. Downstream, the
 * repartition source uses the record timestamp, so the windowed sub-topology's
 * stream time is the largest time of a valid event it has seen — refused
 * events never get there.
 *
 * Every source names the dead-letter topic: a record whose processing throws
 * despite the ingest's validation (a bug, or a rule the ingest missed) goes
 * there with reason `processing-failed` instead of failing the task on every
 * restart.
 *
 * When the input is already keyed by subject (`keyedBySubject`), the
 * repartition is skipped and everything runs in one sub-topology. The ingest
 * source's extractor then classifies each event itself (it is the only place
 * that decides stream time), with the `wallClockMs` option as its clock
 * (default `Date.now`), and leaves the outcome on the value for the ingest
 * processor, so the event is decoded once and both agree.
 */
import { ConfigError } from '../schemas/errors.js';
import { bufferSerde, jsonSerde, stringSerde } from '../schemas/serde.js';
import { internalRecordFormatOf } from '../schemas/index.js';
import type { TallyConfig } from '../schemas/config-types.js';
import type { StoreSpec } from '../state/index.js';
import { TopologyBuilder, type TimestampExtractor, type Topology } from '../topology/index.js';
import type { MeterWindowValue } from './aggregations/aggregation.js';
import { dedupeProcessor, dedupeStoreSpec } from './dedupe.js';
import { classifyEvent, type IngestSettings } from './ingest/classify-event.js';
import type { EventDecoder } from './ingest/event-decoder.js';
import { createIngestDecoder } from './ingest/ingest-decoder.js';
import { ingestProcessor } from './ingest/ingest-processor.js';
import { rawEventValueSerde, type RawEventValue } from './ingest/ingested-event.js';
import { ingestedEventSerdeFor } from './ingest/ingested-event-serde.js';
import { meterAggregateProcessor } from './meter-aggregate.js';
import { meterCloseStateStoreSpec } from './meter-close-state.js';
import { meterWindowValueSerde } from './meter-window-serde.js';
import { compileMeterPlans, type MeterPlan } from './meter-plan.js';
import { createMeteringCounters, type MeteringCounters } from './metering-counters.js';
import { addEntitlementNodes, entitlementMeters } from './entitlements/index.js';
import { addRatingNodes, compileRatingPlans, createRatingCounters, ratingEnabled, ratingNodes, type RatingCounters } from './rating/index.js';

/** Node names: stable, because store and topic names and task layout derive from them. */
export const meteringNodes = {
  eventsSource: 'usage-events-source',
  ingest: 'ingest-events',
  deadLetterSink: 'dead-letter-sink',
  repartitionSink: 'events-by-subject-sink',
  repartitionSource: 'events-by-subject-source',
  dedupe: 'dedupe-events',
  aggregate: 'aggregate-meters',
  metersSink: 'meters-sink',
  lateSink: 'late-events-sink',
} as const;

/** The internal repartition topic (logical name; physically `<app>-events-by-subject-repartition`). */
export const eventsBySubjectTopic = 'events-by-subject-repartition';

export interface MeteringTopologyOptions {
  /**
   * The wall clock (epoch ms) for ingestion time and the future bound.
   * Default: the task's wall clock (simulated in the test driver); when the
   * input is keyed by subject, `Date.now`. `tally replay` fixes it to `--now`.
   */
  readonly wallClockMs?: () => number;
  /** Wire format of the input; default CloudEvents JSON, plus Avro when `schemaRegistry.url` is set. */
  readonly decoder?: EventDecoder;
  /** Largest accepted event, bytes (JSON decoder); default 1 MiB. */
  readonly maxEventBytes?: number;
  /** Skip the repartition by subject; default `config.ingest.keyedBySubject`, else false. */
  readonly keyedBySubject?: boolean;
  /** Counters the processors bump; default a private set. */
  readonly counters?: MeteringCounters;
  /** Counters the rating processors bump; default a private set. */
  readonly ratingCounters?: RatingCounters;
}

/** The meter stores' segment span: half the retention (at least a minute), the window stores' usual default. */
function meterSegmentIntervalMs(config: TallyConfig): number {
  return Math.max(Math.floor(config.windows.retentionMs / 2), 60_000);
}

function meterStoreSpec(plan: MeterPlan, config: TallyConfig): StoreSpec<MeterWindowValue> {
  return {
    name: plan.storeName,
    kind: 'window',
    persistent: true,
    caching: true,
    logging: true,
    valueSerde: meterWindowValueSerde(plan.aggregationName, internalRecordFormatOf(config.app)),
    retentionMs: config.windows.retentionMs,
    windowSizeMs: config.windows.sizeMs,
    segmentIntervalMs: meterSegmentIntervalMs(config),
  };
}

/** Both retentions must cover a window plus its lateness (docs/metering.md, "Windows, lateness and emission"). */
function checkRetentions(config: TallyConfig): void {
  const neededMs = config.windows.sizeMs + config.ingest.allowedLatenessMs;
  const problems: string[] = [];
  if (config.ingest.dedupeRetentionMs < neededMs) problems.push(`ingest.dedupeRetention: ${config.ingest.dedupeRetentionMs} ms is shorter than windows.size + ingest.allowedLateness (${neededMs} ms)`);
  if (config.windows.retentionMs < neededMs) problems.push(`windows.retention: ${config.windows.retentionMs} ms is shorter than windows.size + ingest.allowedLateness (${neededMs} ms)`);
  if (problems.length > 0) throw new ConfigError(problems);
}

/** Source extractor for input keyed by subject: classifies once; only valid events carry a time. */
function classifyingExtractor(settings: IngestSettings, wallClockMs: () => number): TimestampExtractor<Buffer | null, RawEventValue | null> {
  return (record) => {
    const raw = record.value;
    if (raw === null) return null;
    raw.outcome ??= classifyEvent(raw.bytes, wallClockMs(), settings);
    return raw.outcome.kind === 'valid' ? raw.outcome.event.timeMs : null;
  };
}

/**
 * The metering topology for a frozen config: source `topics.events`, sinks
 * `topics.meters`, `topics.late` and `topics.deadLetter`, one window store per
 * meter; with plans, also source `topics.customers` and sink `topics.billing`.
 * Processors are created per task; the counters in `options` are shared.
 * @throws ConfigError when `ingest.dedupeRetention` or `windows.retention` is
 *   shorter than `windows.size + ingest.allowedLateness`
 */
export function buildMeteringTopology(config: TallyConfig, options: MeteringTopologyOptions = {}): Topology {
  checkRetentions(config);
  const plans = compileMeterPlans(config.meters);
  const settings: IngestSettings = {
    // JSON always; Avro in the Confluent wire format too when a schema registry is configured.
    decoder: options.decoder ?? createIngestDecoder(config, options.maxEventBytes === undefined ? {} : { maxEventBytes: options.maxEventBytes }),
    maxFutureSkewMs: config.ingest.maxFutureSkewMs,
    plans,
  };
  const counters = options.counters ?? createMeteringCounters();
  const keyedBySubject = options.keyedBySubject ?? config.ingest.keyedBySubject ?? false;
  const nodes = meteringNodes;
  const builder = new TopologyBuilder();

  // Ingest: decode, validate, future bound, meter values → dead letters, or valid events keyed by subject.
  // Keyed by subject, the extractor and the processor must read one clock (the extractor decides); else the task's.
  const ingestClock = keyedBySubject ? (options.wallClockMs ?? Date.now) : options.wallClockMs;
  builder.addSource<Buffer | null, RawEventValue | null>(nodes.eventsSource, [config.topics.events], {
    keySerde: bufferSerde,
    valueSerde: rawEventValueSerde,
    // Avro writer schemas a batch needs are fetched before it is processed: the per-record path is synchronous.
    ...(settings.decoder.prepare === undefined ? {} : { prepare: settings.decoder.prepare.bind(settings.decoder) }),
    timestampExtractor: ingestClock !== undefined && keyedBySubject ? classifyingExtractor(settings, ingestClock) : () => null,
    // The runtime's backstop: a record whose processing throws is dead-lettered (processing-failed), not a crash loop.
    deadLetterTopic: config.topics.deadLetter,
  });
  const acceptedChild = keyedBySubject ? nodes.dedupe : nodes.repartitionSink;
  builder.addProcessor(nodes.ingest, ingestProcessor({ settings, wallClockMs: ingestClock, deadLetterChild: nodes.deadLetterSink, acceptedChild, counters }), [nodes.eventsSource]);
  builder.addSink(nodes.deadLetterSink, config.topics.deadLetter, [nodes.ingest], { keySerde: bufferSerde, valueSerde: jsonSerde() });

  let dedupeParent: string = nodes.ingest;
  if (!keyedBySubject) {
    builder.addInternalTopic(eventsBySubjectTopic);
    const ingestedEventSerde = ingestedEventSerdeFor(internalRecordFormatOf(config.app));
    builder.addSink(nodes.repartitionSink, eventsBySubjectTopic, [nodes.ingest], { keySerde: stringSerde, valueSerde: ingestedEventSerde });
    // Default extractor: the record timestamp, which the ingest set to the (valid) event time.
    builder.addSource(nodes.repartitionSource, [eventsBySubjectTopic], { keySerde: stringSerde, valueSerde: ingestedEventSerde, deadLetterTopic: config.topics.deadLetter });
    dedupeParent = nodes.repartitionSource;
  }

  // Dedupe, then one windowed aggregate over every meter.
  builder.addProcessor(nodes.dedupe, dedupeProcessor({ dedupeRetentionMs: config.ingest.dedupeRetentionMs, counters }), [dedupeParent]);
  builder.addStateStore(dedupeStoreSpec(config.ingest.dedupeRetentionMs, internalRecordFormatOf(config.app)), nodes.dedupe);
  const windowing = { sizeMs: config.windows.sizeMs, allowedLatenessMs: config.ingest.allowedLatenessMs };
  const rating = ratingEnabled(config) ? compileRatingPlans(config) : undefined;
  // Deltas of every meter: an entitlement added on the customers topic may count any of them.
  const deltas = rating === undefined ? {} : { deltas: { child: ratingNodes.join, meters: new Set(config.meters.map((meter) => meter.slug)) } };
  builder.addProcessor(nodes.aggregate, meterAggregateProcessor({ plans, windowing, metersChild: nodes.metersSink, lateChild: nodes.lateSink, counters, segmentIntervalMs: meterSegmentIntervalMs(config), ...deltas }), [nodes.dedupe]);
  for (const plan of plans.all) builder.addStateStore(meterStoreSpec(plan, config), nodes.aggregate);
  builder.addStateStore(meterCloseStateStoreSpec(internalRecordFormatOf(config.app)), nodes.aggregate);
  // The aggregate forwards meter records as their JSON text.
  builder.addSink(nodes.metersSink, config.topics.meters, [nodes.aggregate], { keySerde: stringSerde, valueSerde: stringSerde });
  builder.addSink(nodes.lateSink, config.topics.late, [nodes.aggregate], { keySerde: stringSerde, valueSerde: jsonSerde() });

  // Rating: meter deltas ⋈ customers by subject → repartition by customer → billing details.
  if (rating !== undefined) {
    const ratingCounters = options.ratingCounters ?? createRatingCounters();
    const countedMeters = new Set([...rating.chargedMeters, ...entitlementMeters(config)]);
    addRatingNodes(builder, { config, plans: rating, deltasParent: nodes.aggregate, countedMeters, ratingCounters, meteringCounters: counters });
    addEntitlementNodes(builder, { config, ratingCounters });
  }
  return builder.build();
}
