/**
 * Reads an encoded record set back with kafkajs's own record decoder (the one
 * its consumer runs on every fetched record), so tests check the bytes as a
 * reader sees them, not as the encoder meant them.
 */
import { createRequire } from 'node:module';
import type { TopicMessages } from 'kafkajs';
import type { EncodedRecordSet } from '../../topology/kafka/record-set-builder.js';

const require = createRequire(import.meta.url);
type DecoderClass = new (buffer: Buffer) => { readVarIntBytes(): Buffer; offset: number };
const Decoder = require('kafkajs/src/protocol/decoder') as DecoderClass;
const decodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/decoder') as (
  decoder: InstanceType<DecoderClass>,
  batchContext: Record<string, unknown>,
) => { key: Buffer | null; value: Buffer | null; timestamp: string; offset: string; headers: Record<string, Buffer> };

export interface DecodedRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestampMs: number;
  readonly offsetDelta: number;
  readonly headers: Record<string, string>;
}

export function decodeRecordSet(set: EncodedRecordSet): DecodedRecord[] {
  const decoder = new Decoder(set.bytes);
  const records: DecodedRecord[] = [];
  for (let index = 0; index < set.count; index++) {
    const record = decodeRecord(new Decoder(decoder.readVarIntBytes()), { firstOffset: '0', firstTimestamp: String(set.firstTimestamp), magicByte: 2 });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(record.headers)) headers[name] = value.toString('utf8');
    records.push({ key: record.key, value: record.value, timestampMs: Number(record.timestamp), offsetDelta: Number(record.offset), headers });
  }
  if (decoder.offset !== set.bytes.length) throw new Error(`record set has ${set.bytes.length - decoder.offset} bytes after its ${set.count} records`);
  return records;
}

/** The record sets of a chunk, by topic and partition, in the order they were sent. */
export function recordSetsOf(chunk: TopicMessages[]): { topic: string; partition: number; set: EncodedRecordSet }[] {
  return chunk.flatMap(({ topic, messages }) =>
    messages.map((message) => {
      const { partition, encodedRecords } = message as unknown as { partition: number; encodedRecords: EncodedRecordSet };
      return { topic, partition, set: encodedRecords };
    }),
  );
}

/** A copy of a chunk whose record sets outlive the send (TaskOutput writes over them once it settles). */
export function copyChunk(chunk: TopicMessages[]): TopicMessages[] {
  return chunk.map(({ topic, messages }) => ({
    topic,
    messages: messages.map((message) => {
      const { partition, encodedRecords } = message as unknown as { partition: number; encodedRecords: EncodedRecordSet };
      return { partition, value: null, encodedRecords: { ...encodedRecords, bytes: Buffer.from(encodedRecords.bytes) } } as unknown as TopicMessages['messages'][number];
    }),
  }));
}
