/**
 * Avro schemas for Tally's records (`schemas/avro/*.avsc`), loaded with avsc,
 * and typed codecs between the TypeScript record shapes (`records.ts`,
 * `billing-detail.ts`) and Avro. Optional TS fields travel as Avro `null`;
 * event `data` travels as JSON text (see `usage-event.avsc` for why).
 * The codecs write and read bare Avro bodies; the Confluent wire format
 * (magic byte + schema id) is the registry client's job.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import type { BillingDetailRecord, BillingLine } from './billing-detail.js';
import { TallyError } from './errors.js';
import type { DeadLetterReason, DeadLetterRecord, LateEventRecord, MeterRecord, UsageEvent } from './records.js';

export const avroSchemaFiles = {
  usageEvent: 'usage-event.avsc',
  meterRecord: 'meter-record.avsc',
  deadLetterRecord: 'dead-letter-record.avsc',
  lateEventRecord: 'late-event-record.avsc',
  billingDetail: 'billing-detail.avsc',
} as const;
export type AvroSchemaName = keyof typeof avroSchemaFiles;

/** Beside this module in the source tree; from `dist/schemas/` the .avsc files are in the package's `schemas/avro/`. */
function schemaDirectory(): URL {
  const candidates = [new URL('./avro/', import.meta.url), new URL('../../schemas/avro/', import.meta.url)];
  const found = candidates.find((url) => existsSync(fileURLToPath(new URL(avroSchemaFiles.usageEvent, url))));
  if (found === undefined) throw new TallyError('avro-schemas-missing', `Avro schemas not found in ${candidates.map((url) => fileURLToPath(url)).join(' or ')}; reinstall the package`);
  return found;
}

/** The schema JSON of one .avsc file, as registered with a schema registry. */
export function loadAvroSchema(name: AvroSchemaName): avro.Schema {
  return JSON.parse(readFileSync(new URL(avroSchemaFiles[name], schemaDirectory()), 'utf8')) as avro.Schema;
}

/** A usage event as producers send it in Avro (`tally.UsageEvent`): `data` is JSON text. */
export interface AvroUsageEvent {
  readonly specversion: string;
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject: string;
  readonly time: string | null;
  readonly data: string;
}

export interface AvroCodec<T> {
  /** Full Avro name, e.g. `tally.MeterRecord`. */
  readonly name: string;
  readonly schema: avro.Schema;
  readonly type: avro.Type;
  /** @throws TallyError `avro-invalid` naming the first bad field. */
  encode(value: T): Buffer;
  decode(bytes: Buffer): T;
}

/** Builds the codec; the .avsc file is read and compiled on first use, so importing this module does no I/O. */
function createCodec<T>(name: AvroSchemaName, toAvro: (value: T) => unknown, fromAvro: (value: Record<string, unknown>) => T): AvroCodec<T> {
  let loaded: { schema: avro.Schema; type: avro.Type } | undefined;
  const load = (): { schema: avro.Schema; type: avro.Type } => {
    if (loaded === undefined) {
      const schema = loadAvroSchema(name);
      loaded = { schema, type: avro.Type.forSchema(schema) };
    }
    return loaded;
  };
  return {
    get name() {
      return load().type.name ?? name;
    },
    get schema() {
      return load().schema;
    },
    get type() {
      return load().type;
    },
    encode(value) {
      const { type } = load();
      const avroValue = toAvro(value);
      const problems: string[] = [];
      const valid = type.isValid(avroValue, { errorHook: (path) => problems.push(path.join('.') || '(record)') });
      if (!valid) throw new TallyError('avro-invalid', `cannot encode ${type.name ?? name}: invalid ${problems.join(', ')}`);
      return type.toBuffer(avroValue);
    },
    decode: (bytes) => fromAvro(load().type.fromBuffer(bytes) as Record<string, unknown>),
  };
}

const orNull = (value: string | undefined): string | null => value ?? null;
/** `{ key: value }` when value is a string, else `{}`, for optional fields read back from Avro nulls. */
const optional = <K extends string>(key: K, value: unknown): Partial<Record<K, string>> => (typeof value === 'string' ? ({ [key]: value } as Record<K, string>) : {});

export const usageEventAvro: AvroCodec<AvroUsageEvent> = createCodec(
  'usageEvent',
  (event) => ({ ...event }),
  (value) => ({ ...(value as unknown as AvroUsageEvent) }),
);

/** The JSON CloudEvent an Avro usage event stands for (`time` omitted when null, `data` parsed), ready for the same validation as JSON input. */
export function cloudEventFromAvro(event: AvroUsageEvent): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(event.data);
  } catch {
    throw new TallyError('invalid-encoding', `the Avro event's data is not JSON text; send the data object JSON-encoded, e.g. "{\\"tokens\\": 1}"`);
  }
  const { time, ...rest } = event;
  return { ...rest, ...(time === null ? {} : { time }), data };
}

/** The Avro form of a JSON CloudEvent (for producers): `data` JSON-encoded, absent `time` as null. */
export function cloudEventToAvro(event: { specversion?: string; id: string; source: string; type: string; subject: string; time?: string; data?: unknown }): AvroUsageEvent {
  const { specversion = '1.0', id, source, type, subject, time, data = {} } = event;
  return { specversion, id, source, type, subject, time: time ?? null, data: JSON.stringify(data) };
}

export const meterRecordAvro: AvroCodec<MeterRecord> = createCodec(
  'meterRecord',
  (record) => ({ ...record, groupBy: { ...record.groupBy } }),
  (value) => ({ ...(value as unknown as MeterRecord), groupBy: { ...(value['groupBy'] as Record<string, string>) } }),
);

export const deadLetterRecordAvro: AvroCodec<DeadLetterRecord> = createCodec(
  'deadLetterRecord',
  (record) => ({ ...record, eventId: orNull(record.eventId), eventSource: orNull(record.eventSource), meter: orNull(record.meter) }),
  (value) => ({
    reason: value['reason'] as DeadLetterReason,
    message: value['message'] as string,
    topic: value['topic'] as string,
    partition: value['partition'] as number,
    offset: value['offset'] as string,
    timestamp: value['timestamp'] as string,
    key: value['key'] as string | null,
    value: value['value'] as string | null,
    ...optional('eventId', value['eventId']),
    ...optional('eventSource', value['eventSource']),
    ...optional('meter', value['meter']),
  }),
);

export const lateEventRecordAvro: AvroCodec<LateEventRecord> = createCodec(
  'lateEventRecord',
  (record) => ({ ...record, event: { ...record.event, data: JSON.stringify(record.event.data) } }),
  (value) => {
    const event = value['event'] as Record<string, unknown>;
    return {
      ...(value as unknown as LateEventRecord),
      event: { ...(event as unknown as UsageEvent), data: JSON.parse(event['data'] as string) as Record<string, unknown> },
    };
  },
);

const lineToAvro = (line: BillingLine): Record<string, unknown> => ({
  label: line.label,
  from: orNull(line.from),
  to: orNull(line.to),
  quantity: line.quantity,
  unitPrice: orNull(line.unitPrice),
  flatFee: orNull(line.flatFee),
  amount: line.amount,
});

const lineFromAvro = (line: Record<string, unknown>): BillingLine => ({
  label: line['label'] as string,
  ...optional('from', line['from']),
  ...optional('to', line['to']),
  quantity: line['quantity'] as string,
  ...optional('unitPrice', line['unitPrice']),
  ...optional('flatFee', line['flatFee']),
  amount: line['amount'] as string,
});

export const billingDetailAvro: AvroCodec<BillingDetailRecord> = createCodec(
  'billingDetail',
  (record) => ({ ...record, lines: record.lines.map(lineToAvro) }),
  (value) => ({ ...(value as unknown as BillingDetailRecord), lines: (value['lines'] as Record<string, unknown>[]).map(lineFromAvro) }),
);
