/**
 * The usage-by-customer repartition's values in the binary internal-record
 * form. A meter delta's fields are binary, its change in the layout of its
 * aggregation's accumulator (a merge) or as a decimal string (an add); the
 * customer's terms, whose shape grows with the config (subscriptions,
 * entitlements), travel as JSON text inside the record.
 */
import type { AggregationName, InternalRecordFormat } from '../../schemas/config-types.js';
import { internalRecordSerde, type BinaryCodec, type BinaryReader, type BinaryWriter, type Serde } from '../../schemas/index.js';
import { aggregationFor } from '../aggregations/index.js';
import type { UsageChange } from './meter-delta.js';
import { isTermsChange, type CustomerTerms, type CustomerUsage, type UsageByCustomer } from './usage-by-customer.js';

const usageKind = 0;
const termsChangeKind = 1;
const addChange = 0;
const mergeChange = 1;

function writeChange(writer: BinaryWriter, aggregation: AggregationName, change: UsageChange): void {
  if ('add' in change) {
    writer.byte(addChange);
    writer.string(change.add);
  } else {
    writer.byte(mergeChange);
    aggregationFor(aggregation).codec.write(writer, change.merge);
  }
}

function readChange(reader: BinaryReader, aggregation: AggregationName): UsageChange {
  return reader.byte() === addChange ? { add: reader.string() } : { merge: aggregationFor(aggregation).codec.read(reader) };
}

function writeUsage(writer: BinaryWriter, usage: CustomerUsage): void {
  writer.string(usage.meter);
  writer.string(usage.aggregation);
  writer.string(usage.subject);
  const names = Object.keys(usage.groupBy);
  writer.unsigned(names.length);
  for (const name of names) {
    writer.string(name);
    writer.string(usage.groupBy[name] as string);
  }
  writer.signed(usage.windowStartMs);
  writer.signed(usage.windowEndMs);
  writeChange(writer, usage.aggregation, usage.change);
  writer.string(JSON.stringify(usage.customer));
}

/** Fields in the order the usage join builds them (the delta's, then the customer). */
function readUsage(reader: BinaryReader): CustomerUsage {
  const meter = reader.string();
  const aggregation = reader.string() as AggregationName;
  const subject = reader.string();
  const groupBy: Record<string, string> = {};
  for (let remaining = reader.unsigned(); remaining > 0; remaining--) {
    const name = reader.string();
    groupBy[name] = reader.string();
  }
  const windowStartMs = reader.signed();
  const windowEndMs = reader.signed();
  const change = readChange(reader, aggregation);
  const customer = JSON.parse(reader.string()) as CustomerTerms;
  return { meter, aggregation, subject, groupBy, windowStartMs, windowEndMs, change, customer };
}

const usageByCustomerCodec: BinaryCodec<UsageByCustomer> = {
  name: 'usage by customer',
  version: 1,
  write: (writer, value) => {
    if (isTermsChange(value)) {
      writer.byte(termsChangeKind);
      writer.signed(value.changedAtMs);
      writer.string(JSON.stringify(value.customer));
    } else {
      writer.byte(usageKind);
      writeUsage(writer, value);
    }
  },
  read: (reader) => {
    if (reader.byte() === usageKind) return readUsage(reader);
    const changedAtMs = reader.signed();
    return { kind: 'terms-change', customer: JSON.parse(reader.string()) as CustomerTerms, changedAtMs };
  },
};

export function usageByCustomerSerde(format: InternalRecordFormat): Serde<UsageByCustomer> {
  return internalRecordSerde(usageByCustomerCodec, format);
}
