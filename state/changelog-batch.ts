/**
 * Batched changelog records, for window stores whose keys are written once
 * (dedupe: an event identity is stored when first seen and never changed).
 * Such a store gains nothing from compaction by key, so instead of one
 * changelog record per key, a flush writes one record per ~128 KB of writes:
 * far fewer records to produce, send and restore.
 *
 * A batch record's key is unique for ever (a random 8-byte id of the store
 * instance plus a sequence number), so compaction never removes one; the
 * window changelog's time retention deletes it, as it would have deleted the
 * per-key records written at the same moment. Restoration expands a batch
 * into its writes, in order. Every other record is an ordinary key write, so
 * a changelog may hold both kinds (a store switched to batching restores its
 * older records unchanged).
 *
 * Key:   0x00 0xFF, store id (8 bytes), sequence (u32 BE) — 14 bytes. No encoded
 *        store key looks like this: an encoded key starts with 0x00 only when
 *        it is the empty key, and then it is 1 byte (9 in a window store).
 * Value: version (u8 = 1), count (u32 BE), then per write: key length (u32 BE),
 *        key, value length (i32 BE, -1 deletes), value.
 */
import { randomBytes } from 'node:crypto';
import { StateStoreError } from '../schemas/index.js';
import type { BytesWrite, ChangelogWriter } from './types.js';

const batchKeyLength = 14;
const batchVersion = 1;
/** A batch record holds writes up to about this many bytes (the broker refuses records over 1 MB). */
export const maxChangelogBatchBytes = 128 * 1024;

export function isChangelogBatchKey(key: Buffer): boolean {
  return key.length === batchKeyLength && key[0] === 0x00 && key[1] === 0xff;
}

export function encodeChangelogBatch(writes: readonly BytesWrite[]): Buffer {
  let size = 5;
  for (const { key, value } of writes) size += 8 + key.length + (value?.length ?? 0);
  const out = Buffer.allocUnsafe(size);
  out[0] = batchVersion;
  out.writeUInt32BE(writes.length, 1);
  let at = 5;
  for (const { key, value } of writes) {
    out.writeUInt32BE(key.length, at);
    at += 4 + key.copy(out, at + 4);
    out.writeInt32BE(value === null ? -1 : value.length, at);
    at += 4 + (value === null ? 0 : value.copy(out, at + 4));
  }
  return out;
}

export function decodeChangelogBatch(value: Buffer): BytesWrite[] {
  if (value.length < 5 || value[0] !== batchVersion) {
    throw new StateStoreError('state-changelog-batch-invalid', `a changelog batch record of ${value.length} bytes has version ${String(value[0])}; this Tally reads version ${batchVersion}`);
  }
  const count = value.readUInt32BE(1);
  const writes: BytesWrite[] = new Array<BytesWrite>(count);
  let at = 5;
  for (let index = 0; index < count; index++) {
    const keyLength = value.readUInt32BE(at);
    const key = value.subarray(at + 4, at + 4 + keyLength);
    at += 4 + keyLength;
    const valueLength = value.readInt32BE(at);
    at += 4;
    writes[index] = { key, value: valueLength < 0 ? null : value.subarray(at, at + valueLength) };
    at += Math.max(0, valueLength);
  }
  if (at !== value.length) throw new StateStoreError('state-changelog-batch-invalid', `a changelog batch record is ${value.length} bytes but its ${count} writes end at byte ${at}`);
  return writes;
}

/** Replaces every batch record by the writes it holds; other records pass through. */
export function expandChangelogBatches(records: readonly BytesWrite[]): readonly BytesWrite[] {
  if (!records.some((record) => isChangelogBatchKey(record.key))) return records;
  return records.flatMap((record) => (isChangelogBatchKey(record.key) && record.value !== null ? decodeChangelogBatch(record.value) : [record]));
}

/** Writes a flush's writes to a changelog as batch records of at most ~{@link maxChangelogBatchBytes}. */
export class ChangelogBatchWriter {
  readonly #storeId = randomBytes(8);
  #sequence = 0;

  constructor(private readonly changelog: ChangelogWriter) {}

  append(writes: readonly BytesWrite[], timestampMs: number): void {
    let from = 0;
    let bytes = 0;
    for (let index = 0; index < writes.length; index++) {
      const { key, value } = writes[index] as BytesWrite;
      bytes += 8 + key.length + (value?.length ?? 0);
      if (bytes >= maxChangelogBatchBytes || index === writes.length - 1) {
        this.changelog.append(this.#nextKey(), encodeChangelogBatch(writes.slice(from, index + 1)), timestampMs);
        from = index + 1;
        bytes = 0;
      }
    }
  }

  #nextKey(): Buffer {
    const key = Buffer.allocUnsafe(batchKeyLength);
    key[0] = 0x00;
    key[1] = 0xff;
    this.#storeId.copy(key, 2);
    key.writeUInt32BE(this.#sequence, 10);
    // After 2^32 batches, a new store id keeps keys unique.
    if (++this.#sequence > 0xffff_ffff) {
      this.#sequence = 0;
      randomBytes(8).copy(this.#storeId);
    }
    return key;
  }
}
