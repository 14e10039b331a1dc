/**
 * Wires rating onto the metering topology (docs/rating.md, "The topology"), with stable names:
 *
 * ```
 * tally-customers ─▶ customers-source ─▶ customers-table [customers-by-subject]
 *        ├─▶ customers-dead-letter-sink                (tally-dead-letter)
 *        └─▶ usage-by-customer-sink                    (terms changes, key customer)
 * aggregate-meters ─(MeterDelta, key subject)─▶ usage-customer-join [customers-by-subject]
 *        ├─▶ unrated-dead-letter-sink                  (tally-dead-letter)
 *        └─▶ usage-by-customer-sink                    (<app>-usage-by-customer-repartition, key customer)
 * usage-by-customer-source ─▶ rate-usage [rating-details, rating-periods, rating-open-details, rating-close-state, rating-invoices]
 *        ├─▶ billing-sink                              (tally-billing-details)
 *        ├─▶ invoices-sink                             (tally-invoices)
 *        └─▶ rating-dead-letter-sink                   (tally-dead-letter)
 * ```
 *
 * The customers table shares its store with the join, so it lands in the
 * sub-topology that aggregates meters (keyed by subject): `tally-customers`
 * must have that sub-topology's partition count. The repartition carries
 * usage and terms changes (usage-by-customer.ts) to rating in one stream, so the
 * changes and usage of one subject reach rating in the order its task joined them.
 */
import type { TallyConfig } from '../../schemas/config-types.js';
import type { BillingDetailRecord } from '../../schemas/billing-detail.js';
import type { InvoiceRecord } from '../../schemas/invoice.js';
import { jsonSerde, stringSerde } from '../../schemas/serde.js';
import { internalRecordFormatOf } from '../../schemas/index.js';
import { usageByCustomerSerde } from './usage-by-customer-serde.js';
import type { TopologyBuilder } from '../../topology/index.js';
import type { MeteringCounters } from '../metering-counters.js';
import { customersStoreSpec, customersTableProcessor, rawCustomerValueSerde, type RawCustomerValue } from './customers-table.js';
import type { RatingCounters } from './rating-counters.js';
import { ratingProcessor } from './rating-processor.js';
import type { RatingPlans } from './rating-plans.js';
import { ratingStoreSpecs } from './rating-stores.js';
import { usageByCustomerTimestamp } from './usage-by-customer.js';
import { usageJoinProcessor } from './usage-join.js';

/** Node names: stable, because store and topic names derive from them. */
export const ratingNodes = {
  customersSource: 'customers-source',
  customersTable: 'customers-table',
  customersDeadLetterSink: 'customers-dead-letter-sink',
  join: 'usage-customer-join',
  unratedSink: 'unrated-dead-letter-sink',
  repartitionSink: 'usage-by-customer-sink',
  repartitionSource: 'usage-by-customer-source',
  rate: 'rate-usage',
  billingSink: 'billing-sink',
  invoicesSink: 'invoices-sink',
  ratingDeadLetterSink: 'rating-dead-letter-sink',
} as const;

/** The internal repartition topic (logical name; physically `<app>-usage-by-customer-repartition`). */
export const usageByCustomerTopic = 'usage-by-customer-repartition';

export interface RatingWiring {
  readonly config: TallyConfig;
  readonly plans: RatingPlans;
  /** The node that forwards `MeterDelta`s of every meter to `ratingNodes.join` (the meter aggregate). */
  readonly deltasParent: string;
  /** Meters a plan charges or a configured entitlement counts (see usage-join.ts). */
  readonly countedMeters: ReadonlySet<string>;
  readonly ratingCounters: RatingCounters;
  readonly meteringCounters: MeteringCounters;
}

/** Adds the customers table, the usage join and rating to `builder`. */
export function addRatingNodes(builder: TopologyBuilder, wiring: RatingWiring): void {
  const { config, plans, deltasParent, countedMeters, ratingCounters, meteringCounters } = wiring;
  const nodes = ratingNodes;
  const deadLetter = { keySerde: stringSerde, valueSerde: jsonSerde() };

  // The customers table. Null extractor: a customer update must never move stream time.
  // Bootstrapped: a task reads its customers partition to the end before any usage, or
  // usage queued while it was down would be joined to an empty table (and dead-lettered).
  builder.addSource<string | null, RawCustomerValue | null>(nodes.customersSource, [config.topics.customers], {
    keySerde: stringSerde,
    valueSerde: rawCustomerValueSerde,
    timestampExtractor: () => null,
    bootstrap: true,
    deadLetterTopic: config.topics.deadLetter, // the runtime's backstop (processing-failed)
  });
  builder.addProcessor(nodes.customersTable, customersTableProcessor({ deadLetterChild: nodes.customersDeadLetterSink, termsChild: nodes.repartitionSink, ratingCounters, meteringCounters }), [nodes.customersSource]);
  builder.addStateStore(customersStoreSpec(), nodes.customersTable);
  builder.addSink(nodes.customersDeadLetterSink, config.topics.deadLetter, [nodes.customersTable], deadLetter);

  // Join by subject, then by customer through the repartition topic.
  const joinOptions = { planKeys: new Set(plans.byPlan.keys()), countedMeters, usageChild: nodes.repartitionSink, deadLetterChild: nodes.unratedSink, metersTopic: config.topics.meters };
  builder.addProcessor(nodes.join, usageJoinProcessor({ ...joinOptions, ratingCounters, meteringCounters }), [deltasParent]);
  builder.connectStore(nodes.join, customersStoreSpec().name);
  builder.addSink(nodes.unratedSink, config.topics.deadLetter, [nodes.join], deadLetter);
  builder.addInternalTopic(usageByCustomerTopic);
  const format = internalRecordFormatOf(config.app);
  builder.addSink(nodes.repartitionSink, usageByCustomerTopic, [nodes.join, nodes.customersTable], { keySerde: stringSerde, valueSerde: usageByCustomerSerde(format) });
  // A delta's timestamp (its window's last instant) is rating's stream time; a terms change has none.
  builder.addSource(nodes.repartitionSource, [usageByCustomerTopic], {
    keySerde: stringSerde,
    valueSerde: usageByCustomerSerde(format),
    timestampExtractor: usageByCustomerTimestamp,
    deadLetterTopic: config.topics.deadLetter,
  });

  // Rating.
  const rateOptions = {
    plans,
    allowedLatenessMs: config.ingest.allowedLatenessMs,
    billingChild: nodes.billingSink,
    invoicesChild: nodes.invoicesSink,
    deadLetterChild: nodes.ratingDeadLetterSink,
    metersTopic: config.topics.meters,
  };
  builder.addProcessor(nodes.rate, ratingProcessor({ ...rateOptions, ratingCounters, meteringCounters }), [nodes.repartitionSource]);
  for (const spec of ratingStoreSpecs(format)) builder.addStateStore(spec, nodes.rate);
  builder.addSink(nodes.billingSink, config.topics.billing, [nodes.rate], { keySerde: stringSerde, valueSerde: jsonSerde<BillingDetailRecord>() });
  builder.addSink(nodes.invoicesSink, config.topics.invoices, [nodes.rate], { keySerde: stringSerde, valueSerde: jsonSerde<InvoiceRecord>() });
  builder.addSink(nodes.ratingDeadLetterSink, config.topics.deadLetter, [nodes.rate], deadLetter);
}

