/**
 * Values that only Tally reads (store values, changelogs, repartition topics)
 * in a compact binary form: byte 0 is 0x00, which never starts JSON text,
 * byte 1 the version of the body's layout, then the body written by a
 * {@link BinaryCodec}. Reading accepts both that form and the JSON that
 * earlier versions wrote, so their stores and topics still restore and read.
 *
 * `format: 'json'` writes JSON as earlier versions did, for the first bounce
 * of a rolling upgrade (an older instance reads JSON only). A value the
 * codec cannot hold exactly (say, a count that is not a safe integer) is
 * written as JSON too: a reader tells the two apart by the first byte.
 */
import type { AppConfig, InternalRecordFormat } from '../config-types.js';
import { StateStoreError } from '../errors.js';
import type { Serde } from '../serde.js';
import { BinaryReader } from './binary-reader.js';
import { BinaryWriter, NotEncodable } from './binary-writer.js';

export { BinaryReader, BinaryWriter, NotEncodable };

/** The first byte of every binary internal record. */
export const binaryRecordMarker = 0x00;

/** Writes and reads one value type's body; `version` is the layout's version, stored in byte 1. */
export interface BinaryCodec<T> {
  /** Names the value type in error messages. */
  readonly name: string;
  readonly version: number;
  write(writer: BinaryWriter, value: T): void;
  read(reader: BinaryReader): T;
}

// Serialization is synchronous and never nested, so one writer and one reader serve every serde.
const sharedWriter = new BinaryWriter();
const sharedReader = new BinaryReader();

/** The format `app.internalRecordFormat` asks for; `binary` when a config built in code leaves it out. */
export function internalRecordFormatOf(app: AppConfig): InternalRecordFormat {
  return app.internalRecordFormat ?? 'binary';
}

/** True when `bytes` is in the binary form (else it is legacy JSON). */
export function isBinaryRecord(bytes: Buffer): boolean {
  return bytes.length > 0 && bytes[0] === binaryRecordMarker;
}

function encodeBinary<T>(codec: BinaryCodec<T>, value: T): Buffer {
  try {
    sharedWriter.start(codec.version);
    codec.write(sharedWriter, value);
    return sharedWriter.finish();
  } catch (error) {
    if (error instanceof NotEncodable) return encodeJson(value);
    throw error;
  }
}

function encodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

function decode<T>(codec: BinaryCodec<T>, bytes: Buffer): T {
  if (bytes[0] !== binaryRecordMarker) return JSON.parse(bytes.toString('utf8')) as T;
  const version = bytes[1];
  if (version !== codec.version) {
    throw new StateStoreError(
      'internal-record-version',
      `a ${codec.name} record has binary layout version ${String(version)}; this Tally reads version ${codec.version}. ` +
        'It was written by another Tally version: run the version that wrote it, or one that reads it, until it is rewritten.',
    );
  }
  const value = codec.read(sharedReader.reset(bytes));
  sharedReader.end();
  return value;
}

/** The serde of an internal value type: writes `format`, reads both forms. */
export function internalRecordSerde<T>(codec: BinaryCodec<T>, format: InternalRecordFormat): Serde<T> {
  return {
    serialize: format === 'binary' ? (value) => encodeBinary(codec, value) : encodeJson,
    deserialize: (bytes) => decode(codec, bytes),
  };
}
