/**
 * kafkajs's internal read path, loaded directly so the patched functions can be
 * fed crafted fetch responses: record batches encoded byte for byte as a broker
 * sends them (control batches and batches left without records by compaction
 * included), decoded by kafkajs's own fetch decoder.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A decoded record as kafkajs hands it around internally. */
export interface InternalMessage {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly isControlRecord: boolean;
  readonly batchContext: { readonly producerId: string; readonly inTransaction: boolean; readonly firstOffset: string; readonly lastOffsetDelta: number };
}

export interface AbortedTransaction {
  readonly producerId: string;
  readonly firstOffset: string;
}

export interface PartitionData {
  readonly partition: number;
  readonly highWatermark: string;
  readonly abortedTransactions: readonly AbortedTransaction[];
  readonly messages: InternalMessage[];
}

export interface InternalBatch {
  readonly topic: string;
  readonly partition: number;
  readonly fetchedOffset: string;
  readonly messages: InternalMessage[];
  readonly rawMessages: InternalMessage[];
  readonly messagesWithinOffset: InternalMessage[];
  isEmpty(): boolean;
  isEmptyIncludingFiltered(): boolean;
  isEmptyDueToFiltering(): boolean;
  isEmptyControlRecord(): boolean;
  isEmptyDueToLogCompactedMessages(): boolean;
  firstOffset(): string | null;
  lastOffset(): string;
  messageCount(): number;
  lastMessageOffset(): string | undefined;
  messageReader(): { next(): InternalMessage | null };
}

interface Encoder {
  readonly buffer: Buffer;
}

interface Long {
  readonly __long: true;
}

const LongClass = require('kafkajs/src/utils/long') as { fromValue(v: number | string): Long };
const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => unknown;
const encodeRecordBatch = (require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (options: Record<string, unknown>) => Promise<Encoder> }).RecordBatch;
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (options: { offsetDelta: number; key: Buffer | null; value: Buffer | null }) => Encoder;
/** A partition's record set as the patched fetch decoder returns it: one segment per record batch, records decoded when read. */
export type RecordSegments = unknown[] & { readonly recordSegments: true; readonly lastBatchOffset: string | null };
const decodeMessages = require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages') as (decoder: unknown) => Promise<RecordSegments>;
/** Every record of a record set, decoded. */
export const allRecords = (require('kafkajs/src/protocol/requests/fetch/v4/recordSegments') as { allRecords(segments: RecordSegments): InternalMessage[] }).allRecords;

export const filterAbortedMessages = require('kafkajs/src/consumer/filterAbortedMessages') as (input: {
  messages: InternalMessage[];
  abortedTransactions: readonly AbortedTransaction[];
}) => InternalMessage[];

export const Batch = require('kafkajs/src/consumer/batch') as new (topic: string, fetchedOffset: string, partitionData: PartitionData) => InternalBatch;

export const Runner = require('kafkajs/src/consumer/runner') as new (options: Record<string, unknown>) => {
  running: boolean;
  handleBatch(batch: InternalBatch): Promise<void>;
};

const loggers = require('kafkajs/src/loggers') as { createLogger(options: { level: number; logCreator: () => () => void }): unknown; LEVELS: { NOTHING: number } };
export const silentLogger = (): unknown => loggers.createLogger({ level: loggers.LEVELS.NOTHING, logCreator: () => () => undefined });

export const endBatchProcessEvent = (require('kafkajs/src/consumer/instrumentationEvents') as { events: { END_BATCH_PROCESS: string } }).events.END_BATCH_PROCESS;

/** One record batch of a partition's log. */
export interface BatchSpec {
  readonly baseOffset: number;
  /** Offsets the batch spans beyond its base (kept by compaction even when records go). Default: records − 1. */
  readonly lastOffsetDelta?: number;
  /** -1 for a producer without id. */
  readonly producerId: number;
  readonly transactional: boolean;
  /** A transaction marker: one control record. */
  readonly marker?: 'commit' | 'abort';
  /** GZIP-compressed records (kafkajs decodes those when it reads the fetch response). */
  readonly compressed?: boolean;
  /** Records (key, value), each with its offset delta; none for a batch compaction emptied. */
  readonly records: readonly { readonly offsetDelta: number; readonly key: string; readonly value: string }[];
}

/** The last offset a batch spans. */
export function lastOffsetOf(spec: BatchSpec): number {
  return spec.baseOffset + (spec.lastOffsetDelta ?? (spec.marker !== undefined ? 0 : spec.records.length - 1));
}

export const data = (baseOffset: number, producerId: number, ...values: string[]): BatchSpec => ({
  baseOffset,
  producerId,
  transactional: true,
  records: values.map((value, i) => ({ offsetDelta: i, key: `k-${value}`, value })),
});

export const marker = (offset: number, producerId: number, kind: 'commit' | 'abort'): BatchSpec => ({ baseOffset: offset, producerId, transactional: true, marker: kind, records: [] });

/** A transactional batch that compaction emptied: only its header, spanning `first..last`. */
export const emptied = (first: number, last: number, producerId: number): BatchSpec => ({ baseOffset: first, lastOffsetDelta: last - first, producerId, transactional: true, records: [] });

const attributesPosition = 8 + 4 + 4 + 1 + 4; // base offset, length, leader epoch, magic, crc
const gzip = (require('kafkajs/src/protocol/message/compression') as { Types: { GZIP: number } }).Types.GZIP;
const controlFlag = 0x20;

/** One record batch, encoded byte for byte as a broker stores it. */
export async function encodeBatch(spec: BatchSpec): Promise<Buffer> {
  const records =
    spec.marker === undefined
      ? spec.records.map((r) => encodeRecord({ offsetDelta: r.offsetDelta, key: Buffer.from(r.key), value: Buffer.from(r.value) }))
      : // Control record: key = version (0) + type (0 abort, 1 commit); value = version + coordinator epoch.
        [encodeRecord({ offsetDelta: 0, key: Buffer.from([0, 0, 0, spec.marker === 'abort' ? 0 : 1]), value: Buffer.from([0, 0, 0, 0, 0, 0]) })];
  const encoded = await encodeRecordBatch({
    ...(spec.compressed === true ? { compression: gzip } : {}),
    firstOffset: LongClass.fromValue(spec.baseOffset),
    lastOffsetDelta: lastOffsetOf(spec) - spec.baseOffset,
    transactional: spec.transactional,
    producerId: LongClass.fromValue(spec.producerId),
    records,
  });
  const buffer = Buffer.from(encoded.buffer);
  // kafkajs's encoder cannot mark a control batch; kafkajs does not check the CRC on reading.
  if (spec.marker !== undefined) buffer.writeInt16BE(buffer.readInt16BE(attributesPosition) | controlFlag, attributesPosition);
  return buffer;
}

/** `batches` as one partition's record set of a fetch response, decoded by kafkajs's fetch decoder into segments. */
export async function decodeRecordSegments(batches: readonly BatchSpec[]): Promise<RecordSegments> {
  return decodeEncodedBatches(await Promise.all(batches.map(encodeBatch)));
}

/** Encoded record batches as one partition's record set of a fetch response, decoded into segments. */
export async function decodeEncodedBatches(encoded: readonly Buffer[]): Promise<RecordSegments> {
  const body = Buffer.concat(encoded);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return decodeMessages(new Decoder(Buffer.concat([size, body])));
}

/** Decodes `batches` as one partition's record set of a fetch response: every record. */
export async function decodeRecordSet(batches: readonly BatchSpec[]): Promise<InternalMessage[]> {
  const segments = await decodeRecordSegments(batches);
  return Object.defineProperty(allRecords(segments), 'lastBatchOffset', { value: segments.lastBatchOffset });
}

/** A fetch response for one partition, as kafkajs's consumer turns it into a batch. */
export async function fetchedBatch(
  fetchedOffset: number,
  batches: readonly BatchSpec[],
  options: { highWatermark: number; abortedTransactions?: readonly AbortedTransaction[] },
): Promise<InternalBatch> {
  return new Batch('topic', String(fetchedOffset), {
    partition: 0,
    highWatermark: String(options.highWatermark),
    abortedTransactions: options.abortedTransactions ?? [],
    messages: (await decodeRecordSegments(batches)) as unknown as InternalMessage[],
  });
}

export const values = (messages: readonly { readonly value: Buffer | null }[]): string[] => messages.map((m) => m.value?.toString() ?? '');
