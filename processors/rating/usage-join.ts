/**
 * Joins meter deltas (key: subject) to the customers table (key: subject)
 * and re-keys them by customer for the repartition to rating. Both sides are
 * keyed by subject and co-partitioned: the join runs in the sub-topology that
 * aggregates meters, and `tally-customers` must have as many partitions as
 * the subject-keyed events (the runtime checks this at start-up).
 *
 * Usage nobody pays for is never dropped silently: a delta whose subject has
 * no customer, or whose customer's plan is not in the config, goes to the
 * dead-letter topic with reason `unrated` (see `unratedDeadLetter`), and
 * so does usage whose window starts outside every subscription of its
 * customer (before the first, or after the cancellation).
 *
 * Deltas of every meter arrive here, but only those of `countedMeters` (a
 * plan charges them, or an entitlement in the config counts them) are always
 * joined. Another meter's delta goes on only for a customer whose row has an
 * entitlement on that meter (added on the customers topic); otherwise nothing
 * prices or counts it, and it is dropped here, as a metering-only meter's.
 */
import type { CustomerRecord } from '../../schemas/customer-record.js';
import type { DeadLetterRecord } from '../../schemas/records.js';
import type { KeyValueStore } from '../../state/index.js';
import { StreamRecord, type ProcessorContext, type ProcessorSupplier } from '../../topology/index.js';
import { meterRecordKey } from '../meter-keys.js';
import type { MeteringCounters } from '../metering-counters.js';
import { customersStoreName } from './customers-table.js';
import type { MeterDelta } from './meter-delta.js';
import type { RatingCounters } from './rating-counters.js';
import { subscriptionAt } from './subscriptions.js';
import { customerTerms, type CustomerUsage, type UsageByCustomer } from './usage-by-customer.js';

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The dead letter for usage that cannot be rated. There is no single input
 * record behind a delta (it is a window's change since the last commit), so:
 * `topic` is the meters topic and `key` the window's key there
 * (`meter|subject|groupBy|windowStart`, base64), where its full aggregate
 * is; `partition` is the partition the subject is processed on; `offset` is
 * "-1"; `timestamp` is the window's last instant; `value` is the delta as
 * JSON (base64); `meter` names the meter.
 */
export function unratedDeadLetter(delta: MeterDelta, why: string, metersTopic: string, partition: number): DeadLetterRecord {
  const window = `[${iso(delta.windowStartMs)}, ${iso(delta.windowEndMs)})`;
  return {
    reason: 'unrated',
    message: `usage of meter ${delta.meter} by subject ${JSON.stringify(delta.subject)} in window ${window} is not billed: ${why}`,
    topic: metersTopic,
    partition,
    offset: '-1',
    timestamp: iso(delta.windowEndMs - 1),
    key: Buffer.from(meterRecordKey(delta.meter, delta.subject, delta.groupBy, delta.windowStartMs), 'utf8').toString('base64'),
    value: Buffer.from(JSON.stringify(delta), 'utf8').toString('base64'),
    meter: delta.meter,
  };
}

export interface UsageJoinOptions {
  /** Plan keys in the config. */
  readonly planKeys: ReadonlySet<string>;
  /** Meters a plan charges or a configured entitlement counts. */
  readonly countedMeters: ReadonlySet<string>;
  readonly usageChild: string;
  readonly deadLetterChild: string;
  /** Where the window aggregates are (named in unrated dead letters). */
  readonly metersTopic: string;
  readonly ratingCounters: RatingCounters;
  readonly meteringCounters: MeteringCounters;
}

export function usageJoinProcessor(options: UsageJoinOptions): ProcessorSupplier<string, MeterDelta, string, UsageByCustomer | DeadLetterRecord> {
  const { planKeys, countedMeters, usageChild, deadLetterChild, metersTopic, ratingCounters, meteringCounters } = options;
  return () => {
    let context: ProcessorContext<string, UsageByCustomer | DeadLetterRecord>;
    let customers: KeyValueStore<CustomerRecord>;

    function unrated(record: StreamRecord<string, MeterDelta>, why: string): void {
      meteringCounters.deadLetters.unrated++;
      const key = meterRecordKey(record.value.meter, record.value.subject, record.value.groupBy, record.value.windowStartMs);
      context.forward(record.withKey(key).withValue<UsageByCustomer | DeadLetterRecord>(unratedDeadLetter(record.value, why, metersTopic, context.partition)), deadLetterChild);
    }

    return {
      init(ctx) {
        context = ctx;
        customers = ctx.getKeyValueStore<CustomerRecord>(customersStoreName);
      },
      process(record) {
        const customer = customers.get(record.value.subject);
        if (!countedMeters.has(record.value.meter) && !(customer?.entitlements ?? []).some((entitlement) => entitlement.meter === record.value.meter)) return;
        if (customer === undefined) {
          return unrated(record, `no customer owns subject ${JSON.stringify(record.value.subject)} in the customers table; add it to a customer's subjects (usage from then on is billed)`);
        }
        const span = subscriptionAt(customer, record.value.windowStartMs);
        if (span === undefined) {
          return unrated(record, `customer ${customer.id} has no subscription at ${iso(record.value.windowStartMs)} (before its first, or after its cancellation); usage outside every subscription is not billed`);
        }
        if (!planKeys.has(span.plan)) {
          return unrated(record, `customer ${customer.id} is on plan ${JSON.stringify(span.plan)}, which the config does not declare; declare the plan or move the customer to one that exists`);
        }
        ratingCounters.usageJoined++;
        const usage: CustomerUsage = { ...record.value, customer: customerTerms(customer) };
        context.forward(new StreamRecord<string, UsageByCustomer | DeadLetterRecord>({ key: customer.id, value: usage, timestampMs: record.timestampMs }), usageChild);
      },
    };
  };
}
