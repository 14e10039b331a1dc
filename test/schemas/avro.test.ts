import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import {
  avroSchemaFiles,
  billingDetailAvro,
  cloudEventFromAvro,
  cloudEventToAvro,
  deadLetterRecordAvro,
  lateEventRecordAvro,
  loadAvroSchema,
  meterRecordAvro,
  TallyError,
  usageEventAvro,
  type AvroCodec,
} from '../../schemas/index.js';
import {
  billingDetailSample,
  deadLetterRecordFullSample,
  deadLetterRecordMinimalSample,
  lateEventRecordSample,
  meterRecordSample,
  usageEventSample,
} from '../fixtures/record-samples.js';

const fieldNames = (codec: AvroCodec<unknown>): string[] => (codec.schema as { fields: { name: string }[] }).fields.map((field) => field.name);

describe('Avro schemas', () => {
  it('load every .avsc file as a named tally record', () => {
    for (const name of Object.keys(avroSchemaFiles) as (keyof typeof avroSchemaFiles)[]) {
      const type = avro.Type.forSchema(loadAvroSchema(name));
      expect(type.typeName).toBe('record');
      expect(type.name).toMatch(/^tally\./);
    }
    expect([usageEventAvro, meterRecordAvro, deadLetterRecordAvro, lateEventRecordAvro, billingDetailAvro].map((codec) => codec.name)).toEqual([
      'tally.UsageEvent',
      'tally.MeterRecord',
      'tally.DeadLetterRecord',
      'tally.LateEventRecord',
      'tally.BillingDetail',
    ]);
  });

  it('mirror the TypeScript record shapes field for field', () => {
    expect(fieldNames(meterRecordAvro)).toEqual(Object.keys(meterRecordSample));
    expect(fieldNames(deadLetterRecordAvro)).toEqual(Object.keys(deadLetterRecordFullSample));
    expect(fieldNames(lateEventRecordAvro)).toEqual(Object.keys(lateEventRecordSample));
    expect(fieldNames(billingDetailAvro)).toEqual(Object.keys(billingDetailSample));
    const event = (lateEventRecordAvro.schema as { fields: { name: string; type: { fields: { name: string }[] } }[] }).fields.find((field) => field.name === 'event');
    expect(event?.type.fields.map((field) => field.name)).toEqual(Object.keys(usageEventSample));
  });

  it('accept the records.ts samples that need no conversion as they are', () => {
    expect(meterRecordAvro.type.isValid(meterRecordSample)).toBe(true);
    expect(deadLetterRecordAvro.type.isValid(deadLetterRecordFullSample)).toBe(true);
    expect(meterRecordAvro.type.isValid({ ...meterRecordSample, count: '3' })).toBe(false);
  });
});

describe('Avro codecs', () => {
  it.each([
    ['meter record', meterRecordAvro, meterRecordSample],
    ['dead-letter record with every field', deadLetterRecordAvro, deadLetterRecordFullSample],
    ['dead-letter record without the optional fields', deadLetterRecordAvro, deadLetterRecordMinimalSample],
    ['late-event record with nested event data', lateEventRecordAvro, lateEventRecordSample],
    ['billing detail with tier lines', billingDetailAvro, billingDetailSample],
  ] as const)('round-trip a %s through toBuffer and fromBuffer', (_name, codec, sample) => {
    const bytes = (codec as AvroCodec<typeof sample>).encode(sample);
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect((codec as AvroCodec<typeof sample>).decode(bytes)).toStrictEqual(sample);
  });

  it('round-trip the billing status enum', () => {
    const final = { ...billingDetailSample, status: 'final' as const, revision: 5 };
    expect(billingDetailAvro.decode(billingDetailAvro.encode(final)).status).toBe('final');
  });

  it('refuse to encode a record that does not match, naming the field', () => {
    expect(() => meterRecordAvro.encode({ ...meterRecordSample, final: 'yes' as unknown as boolean })).toThrow(/cannot encode tally\.MeterRecord: invalid final/);
    expect(() => billingDetailAvro.encode({ ...billingDetailSample, status: 'open' as 'final' })).toThrow(TallyError);
  });
});

describe('usage events in Avro', () => {
  it('carry data as JSON text and convert to and from the JSON CloudEvent', () => {
    const json = { specversion: '1.0', id: 'e1', source: 's', type: 'llm.tokens', subject: 'acme-prod', time: '2024-01-01T00:00:00Z', data: { tokens: 5, model: { name: 'm1' } } };
    const avroEvent = cloudEventToAvro(json);
    expect(avroEvent.data).toBe('{"tokens":5,"model":{"name":"m1"}}');
    const decoded = usageEventAvro.decode(usageEventAvro.encode(avroEvent));
    expect(cloudEventFromAvro(decoded)).toStrictEqual(json);
  });

  it('leave time out of the JSON form when the producer sent none', () => {
    const avroEvent = cloudEventToAvro({ id: 'e1', source: 's', type: 't', subject: 'x' });
    expect(avroEvent).toEqual({ specversion: '1.0', id: 'e1', source: 's', type: 't', subject: 'x', time: null, data: '{}' });
    expect(cloudEventFromAvro(avroEvent)).toStrictEqual({ specversion: '1.0', id: 'e1', source: 's', type: 't', subject: 'x', data: {} });
  });

  it('fill specversion, time and data from defaults for a producer whose schema omits them', () => {
    const writer = avro.Type.forSchema({
      type: 'record',
      name: 'UsageEvent',
      namespace: 'tally',
      fields: ['id', 'source', 'type', 'subject'].map((name) => ({ name, type: 'string' })),
    });
    const bytes = writer.toBuffer({ id: 'e1', source: 's', type: 't', subject: 'x' });
    const read = usageEventAvro.type.fromBuffer(bytes, usageEventAvro.type.createResolver(writer));
    expect({ ...read }).toEqual({ specversion: '1.0', id: 'e1', source: 's', type: 't', subject: 'x', time: null, data: '{}' });
  });

  it('reject data that is not JSON text with the invalid-encoding code', () => {
    const error = (() => {
      try {
        cloudEventFromAvro({ specversion: '1.0', id: 'e1', source: 's', type: 't', subject: 'x', time: null, data: '{tokens: 1' });
      } catch (caught) {
        return caught as TallyError;
      }
      throw new Error('expected a rejection');
    })();
    expect(error.code).toBe('invalid-encoding');
    expect(error.message).toContain("the Avro event's data is not JSON text");
  });
});
