/**
 * Records on repartition topics travel in batches. A repartition record
 * costs as much to produce and consume as an output record (kafkajs encodes
 * each one, about 6 µs of CPU), yet nobody but the next sub-topology reads
 * it. So a task gathers the records it sends to each repartition partition
 * and writes them as one batch record of up to ~128 KB, and the task reading
 * that partition expands it back into the records, in order, each with its
 * own key, timestamp (stream time moves per record) and headers.
 *
 * A batch goes out when it is full and at every commit (before the task's
 * other output is flushed for good), so it commits in the same transaction as
 * the state changes and offsets that produced it. Positions stay per Kafka
 * record: a batch is processed whole between two commits. Batches are marked
 * with a header; any other record is processed as it is, so a topic may hold
 * both (written before and after an upgrade). The in-process test driver does
 * not batch: it hands records straight to the next sub-topology.
 *
 * Value: version (u8 = 1), count (u32 BE), then per record: timestamp (f64 BE,
 * ms), key length (i32 BE, -1 = null), key, value length (i32 BE, -1 = null),
 * value, header count (u16 BE), then per header name and value as UTF-8 with
 * a u32 BE length each.
 */
import { TopologyError } from '../../schemas/index.js';
import { DefaultPartitioner } from '../internal/partitioner.js';
import type { OutputRecord, RawRecord } from '../internal/stream-task.js';
import type { Headers } from '../record.js';

/** Header that marks a batch record (value "1"). */
export const repartitionBatchHeader = 'tally.repartition.batch';
const batchVersion = 1;
/** A batch is sent once it holds about this many bytes (the broker refuses records over 1 MB). */
export const maxRepartitionBatchBytes = 128 * 1024;
const batchHeaders: Headers = Object.freeze({ [repartitionBatchHeader]: '1' });

interface BatchedRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestampMs: number;
  readonly headers: Headers;
}

function encodedSize(record: BatchedRecord): number {
  let size = 8 + 4 + (record.key?.length ?? 0) + 4 + (record.value?.length ?? 0) + 2;
  for (const name in record.headers) size += 8 + Buffer.byteLength(name) + Buffer.byteLength(record.headers[name] as string);
  return size;
}

export function encodeRepartitionBatch(records: readonly BatchedRecord[]): Buffer {
  let size = 5;
  for (const record of records) size += encodedSize(record);
  const out = Buffer.allocUnsafe(size);
  out[0] = batchVersion;
  out.writeUInt32BE(records.length, 1);
  let at = 5;
  const writeBytes = (bytes: Buffer | null) => {
    out.writeInt32BE(bytes === null ? -1 : bytes.length, at);
    at += 4 + (bytes === null ? 0 : bytes.copy(out, at + 4));
  };
  const writeText = (text: string) => {
    const length = out.write(text, at + 4, 'utf8');
    out.writeUInt32BE(length, at);
    at += 4 + length;
  };
  for (const record of records) {
    out.writeDoubleBE(record.timestampMs, at);
    at += 8;
    writeBytes(record.key);
    writeBytes(record.value);
    const names = Object.keys(record.headers);
    out.writeUInt16BE(names.length, at);
    at += 2;
    for (const name of names) {
      writeText(name);
      writeText(record.headers[name] as string);
    }
  }
  return out;
}

/** The records a batch record holds, as records of the batch's own partition and offset. */
export function decodeRepartitionBatch(batch: RawRecord): RawRecord[] {
  const value = batch.value;
  if (value === null || value.length < 5 || value[0] !== batchVersion) {
    throw new TopologyError('repartition-batch-invalid', `repartition batch at partition ${batch.partition} offset ${batch.offset} has version ${String(value?.[0])}; this Tally reads version ${batchVersion}`);
  }
  const count = value.readUInt32BE(1);
  const records: RawRecord[] = new Array<RawRecord>(count);
  let at = 5;
  const readBytes = (): Buffer | null => {
    const length = value.readInt32BE(at);
    at += 4;
    if (length < 0) return null;
    at += length;
    return value.subarray(at - length, at);
  };
  const readText = (): string => {
    const length = value.readUInt32BE(at);
    at += 4 + length;
    return value.toString('utf8', at - length, at);
  };
  for (let index = 0; index < count; index++) {
    const timestampMs = value.readDoubleBE(at);
    at += 8;
    const key = readBytes();
    const recordValue = readBytes();
    const headerCount = value.readUInt16BE(at);
    at += 2;
    let headers: Record<string, string> = {};
    for (let h = 0; h < headerCount; h++) headers[readText()] = readText();
    if (headerCount === 0) headers = noHeaders;
    records[index] = { key, value: recordValue, timestampMs, headers, partition: batch.partition, offset: batch.offset };
  }
  return records;
}

const noHeaders: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** True when a consumed record is a batch of repartition records (`decodeRepartitionBatch` gives them); otherwise it is processed as it is. */
export function isRepartitionBatch(raw: RawRecord): boolean {
  return raw.headers[repartitionBatchHeader] === '1';
}

/** Gathers one task's repartition records per (topic, partition) and emits them as batch records. */
export class RepartitionBatcher {
  private readonly pending = new Map<string, { topic: string; partition: number; records: BatchedRecord[]; bytes: number }>();
  private readonly partitioner = new DefaultPartitioner();

  /**
   * @param partitionCounts physical repartition topic → its partition count
   * @param emit where batch records go (the task's output)
   */
  constructor(
    private readonly partitionCounts: ReadonlyMap<string, number>,
    private readonly emit: (record: OutputRecord) => void,
  ) {}

  /** True when `topic` is a repartition topic whose records this batcher takes. */
  takes(topic: string): boolean {
    return this.partitionCounts.has(topic);
  }

  add(record: OutputRecord): void {
    const count = this.partitionCounts.get(record.topic) as number;
    const partition = record.partition ?? this.partitioner.partition(record.key, count);
    const id = `${record.topic}\u0000${partition}`;
    let batch = this.pending.get(id);
    if (batch === undefined) this.pending.set(id, (batch = { topic: record.topic, partition, records: [], bytes: 0 }));
    const batched = { key: record.key, value: record.value, timestampMs: record.timestampMs, headers: record.headers };
    batch.records.push(batched);
    batch.bytes += encodedSize(batched);
    if (batch.bytes >= maxRepartitionBatchBytes) this.send(id);
  }

  /** Emits every batch gathered so far (commit step 1). */
  flush(): void {
    for (const id of [...this.pending.keys()]) this.send(id);
  }

  /** Drops what is gathered (a dirty close). */
  discard(): void {
    this.pending.clear();
  }

  private send(id: string): void {
    const batch = this.pending.get(id);
    this.pending.delete(id);
    if (batch === undefined || batch.records.length === 0) return;
    const last = batch.records[batch.records.length - 1] as BatchedRecord;
    this.emit({ topic: batch.topic, key: null, value: encodeRepartitionBatch(batch.records), timestampMs: last.timestampMs, headers: batchHeaders, partition: batch.partition });
  }
}
