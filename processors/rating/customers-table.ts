/**
 * The customers table: `tally-customers` (compacted, key = subject) kept in
 * the key-value store `customers-by-subject`, read by the usage join. The
 * topic is the source of truth at run time: a customer added or changed on it
 * takes effect for the next usage joined, without a restart. Table records do
 * not move stream time (the source's extractor returns null). A row whose
 * terms differ from the row it replaces is also forwarded, keyed by customer,
 * as a `CustomerTermsChange`: rating and entitlements re-evaluate what they
 * keep open for the customer (usage-by-customer.ts).
 *
 * Config customers seed the topic: `customerTableRecords(config)` turns them
 * into records, one per subject, in config order. Seeding only writes rows;
 * it never deletes one.
 */
import type { TallyConfig } from '../../schemas/config-types.js';
import { parseCustomerRecord, type CustomerRecord } from '../../schemas/customer-record.js';
import { fitDeadLetter, type DeadLetterReason, type DeadLetterRecord } from '../../schemas/records.js';
import { jsonSerde, type Serde } from '../../schemas/serde.js';
import type { KeyValueStore, StoreSpec } from '../../state/index.js';
import { StreamRecord, type ProcessorContext, type ProcessorSupplier } from '../../topology/index.js';
import type { MeteringCounters } from '../metering-counters.js';
import { billingPeriodAt } from './billing-period.js';
import type { RatingCounters } from './rating-counters.js';
import { customerTerms, sameTerms, type CustomerTermsChange } from './usage-by-customer.js';

export const customersStoreName = 'customers-by-subject';

export function customersStoreSpec(): StoreSpec<CustomerRecord> {
  return { name: customersStoreName, kind: 'keyValue', persistent: true, caching: true, logging: true, valueSerde: jsonSerde<CustomerRecord>() };
}

/** A record for the customers topic: key = subject. */
export interface CustomerTableRecord {
  readonly key: string;
  readonly value: CustomerRecord;
}

/** The config's customers as topic records: one per subject, customers and subjects in config order. */
export function customerTableRecords(config: Pick<TallyConfig, 'customers'>): CustomerTableRecord[] {
  return config.customers.flatMap((customer) => {
    const value: CustomerRecord = {
      id: customer.id,
      subjects: [...customer.subjects],
      timezone: customer.timezone,
      currency: customer.currency,
      billingAnchor: customer.billingAnchor,
      ...(customer.plan === undefined ? {} : { plan: customer.plan }),
      ...(customer.subscriptions === undefined ? {} : { subscriptions: customer.subscriptions.map((s) => ({ ...s })) }),
      ...(customer.cancelledAt === undefined ? {} : { cancelledAt: customer.cancelledAt }),
      ...(customer.entitlements === undefined ? {} : { entitlements: customer.entitlements.map((e) => ({ ...e })) }),
    };
    return customer.subjects.map((subject) => ({ key: subject, value }));
  });
}

/**
 * `customer` moved to `plan` at `atMs`. Keeps the plan the current period
 * started with as `previousPlan` (so a second change in the same period does
 * not lose it). Write the result under every subject of the customer.
 */
export function changeCustomerPlan(customer: CustomerRecord, plan: string, atMs: number): CustomerRecord {
  const period = billingPeriodAt(atMs, customer.timezone, customer.billingAnchor);
  const changedMs = customer.planChangedAt === undefined ? undefined : Date.parse(customer.planChangedAt);
  const changedThisPeriod = changedMs !== undefined && changedMs > period.startMs && customer.previousPlan !== undefined;
  const previousPlan = changedThisPeriod ? (customer.previousPlan as string) : customer.plan;
  return { ...customer, plan, previousPlan, planChangedAt: new Date(atMs).toISOString() };
}

/**
 * The plan a period that starts at `periodStartMs` begins with: `previousPlan`
 * if `plan` only took effect after the period started, else `plan`. Rating
 * records it with the period's first usage and keeps it for the period.
 */
export function planAtPeriodStart(customer: Pick<CustomerRecord, 'plan' | 'previousPlan' | 'planChangedAt'>, periodStartMs: number): string {
  const plan = customer.plan ?? '';
  if (customer.previousPlan === undefined || customer.planChangedAt === undefined) return plan;
  return Date.parse(customer.planChangedAt) > periodStartMs ? customer.previousPlan : plan;
}

/** What the customers source hands over: the bytes, and the JSON when they parse. */
export interface RawCustomerValue {
  readonly bytes: Buffer;
  readonly json: { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly problem: string };
}

/** Never throws: a value that is not JSON reaches the table processor, which dead-letters it. */
export const rawCustomerValueSerde: Serde<RawCustomerValue> = {
  serialize: (value) => value.bytes,
  deserialize: (bytes) => {
    try {
      return { bytes, json: { ok: true, value: JSON.parse(bytes.toString('utf8')) as unknown } };
    } catch (error) {
      return { bytes, json: { ok: false, problem: `is not JSON (${(error as Error).message})` } };
    }
  },
};

export interface CustomersTableOptions {
  readonly deadLetterChild: string;
  /** Receives a `CustomerTermsChange` (key: customer id) for every row whose terms changed. */
  readonly termsChild: string;
  readonly ratingCounters: RatingCounters;
  readonly meteringCounters: MeteringCounters;
}

/** The dead letter of a refused customer record, keyed (on the topic) by its subject; cut down to `maxAuditRecordBytes` like the ingest's. */
function refusal(record: StreamRecord<string | null, RawCustomerValue | null>, reason: DeadLetterReason, problem: string): DeadLetterRecord {
  const key = record.key === null ? null : Buffer.from(record.key, 'utf8');
  const full: DeadLetterRecord = {
    reason,
    message: `customer record for subject ${JSON.stringify(record.key)} on ${record.topic} ${problem}; the table keeps the previous row for this subject — write a corrected record`,
    topic: record.topic,
    partition: record.partition,
    offset: String(record.offset),
    timestamp: new Date(record.timestampMs).toISOString(),
    key: key === null ? null : key.toString('base64'),
    value: record.value === null ? null : record.value.bytes.toString('base64'),
  };
  return fitDeadLetter(full, { key, value: record.value?.bytes ?? null }, key?.length ?? 0);
}

type TableOutput = DeadLetterRecord | CustomerTermsChange;

/**
 * Materializes the customers topic: a record puts, a tombstone deletes, a bad
 * record is dead-lettered, and a put that changes a customer's terms is
 * forwarded to `termsChild`. A tombstone changes no terms: the customer keeps
 * its other subjects, and its open periods stay as they are.
 */
export function customersTableProcessor(options: CustomersTableOptions): ProcessorSupplier<string | null, RawCustomerValue | null, string | null, TableOutput> {
  const { deadLetterChild, termsChild, ratingCounters, meteringCounters } = options;
  return () => {
    let context: ProcessorContext<string | null, TableOutput>;
    let store: KeyValueStore<CustomerRecord>;
    function refuse(record: StreamRecord<string | null, RawCustomerValue | null>, reason: DeadLetterReason, problem: string): void {
      ratingCounters.customersRefused++;
      meteringCounters.deadLetters[reason]++;
      context.forward(new StreamRecord<string | null, TableOutput>({ key: record.key, value: refusal(record, reason, problem), timestampMs: record.timestampMs }), deadLetterChild);
    }
    return {
      init(ctx) {
        context = ctx;
        store = ctx.getKeyValueStore<CustomerRecord>(customersStoreName);
      },
      process(record) {
        if (record.key === null || record.key === '') return refuse(record, 'missing-field', 'has no key (the key must be the subject)');
        if (record.value === null) return store.delete(record.key, record.timestampMs);
        const { json } = record.value;
        if (!json.ok) return refuse(record, 'invalid-encoding', json.problem);
        const parsed = parseCustomerRecord(json.value);
        if (!parsed.ok) return refuse(record, 'invalid-field', `is invalid: ${parsed.problem}`);
        const previous = store.get(record.key);
        store.put(record.key, parsed.record, record.timestampMs);
        if (previous !== undefined && sameTerms(previous, parsed.record)) return;
        ratingCounters.customerTermsChanges++;
        const change: CustomerTermsChange = { kind: 'terms-change', customer: customerTerms(parsed.record), changedAtMs: record.timestampMs };
        context.forward(new StreamRecord<string | null, TableOutput>({ key: parsed.record.id, value: change, timestampMs: record.timestampMs }), termsChild);
      },
    };
  };
}
