/**
 * What an internal value costs to write and read back: JSON (what Tally
 * wrote before the binary form, and still writes with
 * `app.internalRecordFormat: json`) beside the binary form, per value type —
 * and, for two shapes, avsc's compiled encoders beside the hand-written
 * codecs, which is why the codecs are hand-written. Prints ns per
 * serialize+deserialize (the best of `--rounds` rounds, which filters out a
 * shared machine's noise) and bytes.
 *
 *   npm run bench:internal-serdes -- --ops 200000 --rounds 5
 */
import { parseArgs } from 'node:util';
import avro from 'avsc';
import { integerCodec, integerFieldsCodec, internalRecordSerde, type Serde } from '../schemas/index.js';
import type { MeterWindowValue } from '../processors/aggregations/index.js';
import type { MeterCloseState } from '../processors/meter-close-state.js';
import { meterWindowValueSerde } from '../processors/meter-window-serde.js';
import type { IngestedEvent } from '../processors/ingest/ingested-event.js';
import { ingestedEventSerdeFor } from '../processors/ingest/ingested-event-serde.js';
import type { UsageByCustomer } from '../processors/rating/usage-by-customer.js';
import { usageByCustomerSerde } from '../processors/rating/usage-by-customer-serde.js';
import { commandLine, machineLine } from './bench-kit.js';

const { values: args } = parseArgs({ options: { ops: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '5' } } });
const ops = Number(args.ops);
const rounds = Number(args.rounds);

interface Case {
  readonly name: string;
  readonly value: unknown;
  readonly json: Serde<unknown>;
  readonly binary: Serde<unknown>;
  readonly avsc?: Serde<unknown>;
}

const latest: MeterWindowValue = { acc: { value: '1234.5', timeMs: 1_733_500_012_345, offset: 81_234_567, id: 'evt-6f1c2a9e-3b7d' }, count: 57 };
const event: IngestedEvent = {
  event: { specversion: '1.0', id: 'evt-6f1c2a9e-3b7d', source: 'api-gateway', type: 'llm.tokens', subject: 'customer-4711', time: '2024-12-06T21:40:12.345Z', timeMs: 1_733_521_212_345, data: { tokens: 1234, concurrency: 17 } },
  offset: 81_234_567,
};

const usage: UsageByCustomer = {
  meter: 'tokens',
  aggregation: 'SUM',
  subject: 'customer-4711',
  groupBy: { model: 'large' },
  windowStartMs: 1_733_521_200_000,
  windowEndMs: 1_733_521_260_000,
  change: { add: '1234' },
  customer: { id: 'customer-4711', timezone: 'America/Los_Angeles', currency: 'USD', billingAnchor: '2024-01-15', plan: 'pro' },
};

const json = <T>(): Serde<T> => ({ serialize: (v) => Buffer.from(JSON.stringify(v), 'utf8'), deserialize: (b) => JSON.parse(b.toString('utf8')) as T });

function avscSerde<T>(schema: object, toAvro: (value: T) => unknown = (value) => value, fromAvro: (value: unknown) => T = (value) => value as T): Serde<T> {
  const type = avro.Type.forSchema(schema as avro.Schema);
  return { serialize: (value) => type.toBuffer(toAvro(value)), deserialize: (bytes) => fromAvro(type.fromBuffer(bytes)) };
}

const latestAvsc = avscSerde<MeterWindowValue>({
  type: 'record',
  name: 'LatestWindow',
  fields: [
    { name: 'acc', type: ['null', { type: 'record', name: 'Latest', fields: [{ name: 'value', type: 'string' }, { name: 'timeMs', type: 'long' }, { name: 'offset', type: 'long' }, { name: 'id', type: 'string' }] }] },
    { name: 'count', type: 'long' },
  ],
});
const eventAvsc = avscSerde<IngestedEvent>(
  {
    type: 'record',
    name: 'Ingested',
    fields: [
      { name: 'offset', type: 'long' },
      ...['id', 'source', 'type', 'subject', 'time'].map((name) => ({ name, type: 'string' })),
      { name: 'timeMs', type: 'long' },
      { name: 'data', type: 'string' },
    ],
  },
  ({ event: e, offset }) => ({ offset, id: e.id, source: e.source, type: e.type, subject: e.subject, time: e.time, timeMs: e.timeMs, data: JSON.stringify(e.data) }),
  (raw) => {
    const r = raw as Record<string, string | number>;
    const data = JSON.parse(r['data'] as string) as Record<string, unknown>;
    return { event: { specversion: '1.0', id: r['id'], source: r['source'], type: r['type'], subject: r['subject'], time: r['time'], timeMs: r['timeMs'], data }, offset: r['offset'] } as IngestedEvent;
  },
);

const meter = (name: string, aggregation: Parameters<typeof meterWindowValueSerde>[0], value: MeterWindowValue, avsc?: Serde<MeterWindowValue>): Case => ({
  name,
  value,
  json: json(),
  binary: meterWindowValueSerde(aggregation, 'binary') as Serde<unknown>,
  ...(avsc === undefined ? {} : { avsc: avsc as Serde<unknown> }),
});

const cases: readonly Case[] = [
  meter('meter COUNT', 'COUNT', { acc: 1_234, count: 1_234 }),
  meter('meter SUM', 'SUM', { acc: '1234567.891', count: 1_234 }),
  meter('meter SUM, 40-digit exact', 'SUM', { acc: '123456789012345678901234567890.000000001', count: 1_234 }),
  meter('meter AVG', 'AVG', { acc: { sum: '1234567.891', count: 1_234 }, count: 1_234 }),
  meter('meter MAX', 'MAX', { acc: '4096.5', count: 1_234 }),
  meter('meter LATEST', 'LATEST', latest, latestAvsc),
  meter('meter UNIQUE_COUNT, 20 ids', 'UNIQUE_COUNT', { acc: Array.from({ length: 20 }, (_, i) => `user-${1000 + i}`), count: 80 }),
  { name: 'dedupe entry', value: 1_733_521_212_345, json: json(), binary: internalRecordSerde(integerCodec('dedupe entry'), 'binary') as Serde<unknown> },
  {
    name: 'meter close state',
    value: { closedBeforeStartMs: 1_733_521_140_000, closedAtMs: 1_733_521_212_345 } satisfies MeterCloseState,
    json: json(),
    binary: internalRecordSerde(integerFieldsCodec<MeterCloseState, keyof MeterCloseState>('close', ['closedBeforeStartMs', 'closedAtMs']), 'binary') as Serde<unknown>,
  },
  { name: 'usage by customer (repartition)', value: usage, json: json(), binary: usageByCustomerSerde('binary') as Serde<unknown> },
  { name: 'ingested event (repartition)', value: event, json: json(), binary: ingestedEventSerdeFor('binary') as Serde<unknown>, avsc: eventAvsc as Serde<unknown> },
];

let sink = 0;

/** Best ns per serialize+deserialize over the rounds. */
function measure(serde: Serde<unknown>, value: unknown): number {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < rounds; round++) {
    const started = process.hrtime.bigint();
    for (let op = 0; op < ops; op++) {
      const decoded = serde.deserialize(serde.serialize(value));
      if (decoded === undefined) sink++;
    }
    best = Math.min(best, Number(process.hrtime.bigint() - started) / ops);
  }
  return best;
}

const cell = (ns: number | undefined): string => (ns === undefined ? '' : ns.toFixed(0));

console.log(`# ${commandLine()}`);
console.log(`# ${machineLine()}`);
console.log('| value | JSON ns | binary ns | speed-up | JSON bytes | binary bytes | avsc ns | avsc bytes |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const c of cases) {
  const jsonNs = measure(c.json, c.value);
  const binaryNs = measure(c.binary, c.value);
  const avscNs = c.avsc === undefined ? undefined : measure(c.avsc, c.value);
  const row = [c.name, cell(jsonNs), cell(binaryNs), `${(jsonNs / binaryNs).toFixed(1)}x`, c.json.serialize(c.value).length, c.binary.serialize(c.value).length, cell(avscNs), c.avsc?.serialize(c.value).length ?? ''];
  console.log(`| ${row.join(' | ')} |`);
}
if (sink > 0) console.log(sink);
