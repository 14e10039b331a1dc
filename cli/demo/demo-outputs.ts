/**
 * Watches the pipeline's output topics (all but the entitlements topic) as a downstream consumer would
 * (read_committed, so only committed transactions show), keeps the latest
 * meter, billing and invoice record per key and every alert, and tells the
 * caller about every record.
 */
import type { Kafka } from 'kafkajs';
import type { BillingDetailRecord } from '../../schemas/billing-detail.js';
import type { TopicsConfig } from '../../schemas/config-types.js';
import type { AlertRecord } from '../../schemas/entitlement.js';
import type { InvoiceRecord } from '../../schemas/invoice.js';
import type { DeadLetterRecord, LateEventRecord, MeterRecord } from '../../schemas/records.js';

export type DemoOutput =
  | { readonly kind: 'meter'; readonly value: MeterRecord }
  | { readonly kind: 'billing'; readonly value: BillingDetailRecord }
  | { readonly kind: 'invoice'; readonly value: InvoiceRecord }
  | { readonly kind: 'alert'; readonly value: AlertRecord }
  | { readonly kind: 'late'; readonly value: LateEventRecord }
  | { readonly kind: 'dead-letter'; readonly value: DeadLetterRecord };

export interface DemoOutputs {
  /** Latest meter record per key (`meter|subject|groupBy|windowStart`). */
  readonly meters: ReadonlyMap<string, MeterRecord>;
  /** Latest billing detail per key (`customer|charge|periodStart`). */
  readonly billing: ReadonlyMap<string, BillingDetailRecord>;
  /** Latest invoice per key (`customer|billingPeriodStart`). */
  readonly invoices: ReadonlyMap<string, InvoiceRecord>;
  /** Every alert read (each should be there once). */
  readonly alerts: readonly AlertRecord[];
  readonly late: readonly LateEventRecord[];
  readonly deadLetters: readonly DeadLetterRecord[];
  /** Output records read so far. */
  readonly recordsRead: number;
  /** Leaves the consumer group. Idempotent. */
  stop(): Promise<void>;
}

/** Starts a consumer group `groupId` on the output topics from their beginning. */
export async function watchOutputs(kafka: Kafka, topics: TopicsConfig, groupId: string, onOutput: (output: DemoOutput) => void): Promise<DemoOutputs> {
  const meters = new Map<string, MeterRecord>();
  const billing = new Map<string, BillingDetailRecord>();
  const invoices = new Map<string, InvoiceRecord>();
  const alerts: AlertRecord[] = [];
  const late: LateEventRecord[] = [];
  const deadLetters: DeadLetterRecord[] = [];
  let recordsRead = 0;
  const record = (topic: string, key: string, value: unknown): void => {
    if (topic === topics.meters) {
      meters.set(key, value as MeterRecord);
      onOutput({ kind: 'meter', value: value as MeterRecord });
    } else if (topic === topics.billing) {
      billing.set(key, value as BillingDetailRecord);
      onOutput({ kind: 'billing', value: value as BillingDetailRecord });
    } else if (topic === topics.invoices) {
      invoices.set(key, value as InvoiceRecord);
      onOutput({ kind: 'invoice', value: value as InvoiceRecord });
    } else if (topic === topics.alerts) {
      alerts.push(value as AlertRecord);
      onOutput({ kind: 'alert', value: value as AlertRecord });
    } else if (topic === topics.late) {
      late.push(value as LateEventRecord);
      onOutput({ kind: 'late', value: value as LateEventRecord });
    } else {
      deadLetters.push(value as DeadLetterRecord);
      onOutput({ kind: 'dead-letter', value: value as DeadLetterRecord });
    }
  };

  const consumer = kafka.consumer({ groupId, readUncommitted: false, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.meters, topics.billing, topics.invoices, topics.alerts, topics.late, topics.deadLetter], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      recordsRead++;
      const key = message.key?.toString('utf8') ?? '';
      if (message.value === null) {
        // A tombstone: the meter window left retention.
        if (topic === topics.meters) meters.delete(key);
        return;
      }
      record(topic, key, JSON.parse(message.value.toString('utf8')));
    },
  });
  let stopped: Promise<void> | undefined;
  return {
    meters,
    billing,
    invoices,
    alerts,
    late,
    deadLetters,
    get recordsRead() {
      return recordsRead;
    },
    stop: () => (stopped ??= consumer.disconnect()),
  };
}
