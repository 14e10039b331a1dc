/**
 * Usage events as CloudEvents JSON or as Avro in the schema registry wire
 * format, on one topic. The first byte decides: 0x00 is the wire format's
 * magic byte (then a 4-byte big-endian schema id, then the Avro body);
 * anything else goes to the JSON decoder unchanged (`{` or whitespace for a
 * JSON object; whatever else it refuses as today).
 *
 * An Avro body is read with its writer schema resolved into Tally's
 * `tally.UsageEvent` (schemas/avro/usage-event.avsc) and mapped to the same
 * CloudEvent object a JSON producer sends (`cloudEventFromAvro`), so the
 * validation after it is the JSON path's, word for word.
 *
 * Writer schemas come from the cache (writer-schemas.ts): `decode` never
 * waits; a value whose schema is not cached yet is `pending` until
 * `prepare(value)` has fetched it.
 */
import { cloudEventFromAvro, type AvroUsageEvent } from '../../schemas/avro.js';
import { checkEventValue } from '../../schemas/event-rules.js';
import { defaultMaxEventBytes, jsonEventDecoder, type DecodedValue, type EventDecoder } from './event-decoder.js';
import type { WriterSchemaCache } from './writer-schemas.js';

/** Magic byte + 4-byte schema id. */
export const wireFormatHeaderBytes = 5;

export interface AvroEventDecoderOptions {
  readonly schemas: WriterSchemaCache;
  /** Largest accepted event, bytes (both encodings). Default 1 MiB. */
  readonly maxEventBytes?: number;
}

/** The schema id of a value in the wire format, or undefined when it is not one. */
export function wireFormatSchemaId(value: Buffer | null): number | undefined {
  if (value === null || value.length < wireFormatHeaderBytes || value[0] !== 0) return undefined;
  return value.readUInt32BE(1);
}

function decodeAvro(value: Buffer, schemas: WriterSchemaCache, maxEventBytes: number): DecodedValue {
  if (value.length > maxEventBytes) return { ok: false, reason: 'too-large', message: `the event is ${value.length} bytes; the limit is ${maxEventBytes} bytes` };
  if (value.length < wireFormatHeaderBytes) {
    return {
      ok: false,
      reason: 'invalid-encoding',
      message: `the value starts with the Avro wire format's magic byte 0 but is only ${value.length} bytes; the wire format is 0, a 4-byte schema id, then the Avro body`,
    };
  }
  const id = value.readUInt32BE(1);
  const writer = schemas.lookup(id);
  if (writer === undefined) return { ok: 'pending', schemaId: id };
  if (writer.kind !== 'readable') return { ok: false, reason: 'unknown-schema', message: writer.message };
  let event: AvroUsageEvent;
  try {
    event = writer.read(value.subarray(wireFormatHeaderBytes)) as AvroUsageEvent;
  } catch (error) {
    return { ok: false, reason: 'invalid-encoding', message: `the Avro body does not decode with schema ${id} (${writer.name}): ${(error as Error).message}` };
  }
  let candidate: Record<string, unknown>;
  try {
    candidate = cloudEventFromAvro(event);
  } catch (error) {
    return { ok: false, reason: 'invalid-encoding', message: (error as Error).message };
  }
  // The same rules as JSON input: `data` arrives as JSON text and may nest as deep, or hold lone surrogates in escapes.
  const violation = checkEventValue(candidate);
  return violation === undefined ? { ok: true, value: candidate } : { ok: false, ...violation };
}

/** The decoder for a topic that may carry both CloudEvents JSON and Avro (wire format). */
export function jsonOrAvroEventDecoder(options: AvroEventDecoderOptions): EventDecoder {
  const maxEventBytes = options.maxEventBytes ?? defaultMaxEventBytes;
  const json = jsonEventDecoder(maxEventBytes);
  const { schemas } = options;
  return {
    format: 'JSON or Avro (schema registry wire format)',
    decode(value) {
      return value !== null && value.length > 0 && value[0] === 0 ? decodeAvro(value, schemas, maxEventBytes) : json.decode(value);
    },
    prepare(value) {
      const id = wireFormatSchemaId(value);
      if (id === undefined || (value as Buffer).length > maxEventBytes) return undefined; // refused without a schema
      return schemas.lookup(id) === undefined ? schemas.load(id) : undefined;
    },
  };
}
