/**
 * Records of one (topic, partition) encoded as they are produced, in Kafka's
 * record format (the records of a v2 record batch), the way Kafka's Java
 * producer fills its accumulator: a record becomes bytes when it is added, so
 * its key, value and record object die young instead of waiting, as objects,
 * for their produce request (which took a scavenge or two under load and
 * promoted most of them to the old generation). The patched kafkajs writes
 * the finished set into a record batch as it is (docs/kafkajs-patch.md).
 *
 * Lifecycle: `append` records, then `finish` once; once the producer is
 * done with the set (its send settled), `release` gives the buffer back to
 * the pool it came from.
 */
import { signedVarintSize, TopologyError, writeSignedVarint } from '../../schemas/index.js';
import type { Headers } from '../record.js';

/** What the patched kafkajs sends as a partition's records (`encodedRecords` of its one message). */
export interface EncodedRecordSet {
  /** `count` records, offset deltas 0…count-1, timestamp deltas from `firstTimestamp`. */
  readonly bytes: Buffer;
  readonly count: number;
  readonly firstTimestamp: number;
  readonly maxTimestamp: number;
}

/** A record's key or value as a sink's serde gives it. */
export type RecordBytes = Uint8Array | string;

const initialCapacity = 4096;

/**
 * Buffers for record sets, used again once the records they held are sent,
 * as the Java producer's BufferPool does. A set lives until its chunk is
 * acknowledged, long enough for the wrapper of a fresh buffer to be promoted:
 * its memory outside the heap then waited for a major GC (a peak of 126 MB
 * of array buffers with 100 000 subjects). Capacities are 4 KiB times a
 * power of two; at most `maxFreeBytes` wait in the pool.
 */
export class RecordBufferPool {
  readonly #free = new Map<number, Buffer[]>();
  #freeBytes = 0;

  constructor(readonly maxFreeBytes: number) {}

  /** Bytes waiting in the pool. */
  get freeBytes(): number {
    return this.#freeBytes;
  }

  /** A buffer of at least `minBytes` (a pooled one when there is one of that capacity). */
  take(minBytes: number): Buffer {
    let capacity = initialCapacity;
    while (capacity < minBytes) capacity *= 2;
    const buffer = this.#free.get(capacity)?.pop();
    if (buffer === undefined) return Buffer.allocUnsafe(capacity);
    this.#freeBytes -= capacity;
    return buffer;
  }

  /** Takes back a buffer nothing reads any more (dropped when the pool is full). */
  give(buffer: Buffer): void {
    if (this.#freeBytes + buffer.length > this.maxFreeBytes) return;
    let free = this.#free.get(buffer.length);
    if (free === undefined) this.#free.set(buffer.length, (free = []));
    free.push(buffer);
    this.#freeBytes += buffer.length;
  }
}

export class RecordSetBuilder {
  readonly #pool: RecordBufferPool | undefined;
  #buffer: Buffer;
  #length = 0;
  #count = 0;
  #firstTimestamp = 0;
  #maxTimestamp = 0;
  #finished = false;
  #released = false;

  /** `pool`: where its buffers come from and go back to; none: fresh ones, left to the GC. */
  constructor(pool?: RecordBufferPool) {
    this.#pool = pool;
    this.#buffer = pool === undefined ? Buffer.allocUnsafe(initialCapacity) : pool.take(initialCapacity);
  }

  /** Records appended so far. */
  get count(): number {
    return this.#count;
  }

  /** Bytes of the records appended so far. */
  get byteLength(): number {
    return this.#length;
  }

  /**
   * Appends one record; returns the bytes it took. Keys and values are
   * bytes (a Buffer or any Uint8Array) or strings (UTF-8, as kafkajs takes
   * them). A record refused leaves the set as it was.
   */
  append(key: RecordBytes | null, value: RecordBytes | null, timestampMs: number, headers: Headers): number {
    if (this.#finished) throw new TopologyError('record-set-finished', 'a record set was appended to after it was finished and handed to the producer');
    if (!Number.isSafeInteger(timestampMs)) {
      throw new TopologyError('record-timestamp-invalid', `an output record has timestamp ${timestampMs}; a Kafka record's timestamp is an integer (ms since the epoch)`);
    }
    const keySize = sizeOfBytes(key, 'key');
    const valueSize = sizeOfBytes(value, 'value');
    const firstTimestamp = this.#count === 0 ? timestampMs : this.#firstTimestamp;
    const timestampDelta = timestampMs - firstTimestamp;
    const offsetDelta = this.#count;
    let bodySize = 1 + signedVarintSize(timestampDelta) + signedVarintSize(offsetDelta) + keySize + valueSize;
    let headerCount = 0;
    for (const name in headers) {
      headerCount++;
      bodySize += sizeOfBytes(name, 'header name') + sizeOfBytes(headers[name] as string, 'header value');
    }
    bodySize += signedVarintSize(headerCount);
    const recordSize = signedVarintSize(bodySize) + bodySize;
    this.#ensureRoom(recordSize);
    const buffer = this.#buffer;
    let at = writeSignedVarint(buffer, this.#length, bodySize);
    buffer[at++] = 0; // attributes
    at = writeSignedVarint(buffer, at, timestampDelta);
    at = writeSignedVarint(buffer, at, offsetDelta);
    at = writeBytes(buffer, at, key);
    at = writeBytes(buffer, at, value);
    at = writeSignedVarint(buffer, at, headerCount);
    for (const name in headers) {
      at = writeBytes(buffer, at, name);
      at = writeBytes(buffer, at, headers[name] as string);
    }
    this.#length = at;
    this.#firstTimestamp = firstTimestamp;
    if (this.#count === 0 || timestampMs > this.#maxTimestamp) this.#maxTimestamp = timestampMs;
    this.#count++;
    return recordSize;
  }

  /** The records appended, for the producer; the builder is done. */
  finish(): EncodedRecordSet {
    this.#finished = true;
    return { bytes: this.#buffer.subarray(0, this.#length), count: this.#count, firstTimestamp: this.#firstTimestamp, maxTimestamp: this.#maxTimestamp };
  }

  /**
   * The producer is done with the finished set: its buffer goes back to the
   * pool, to be written over. Nothing may read the set after this.
   */
  release(): void {
    if (!this.#finished || this.#released) return;
    this.#released = true;
    this.#pool?.give(this.#buffer);
  }

  #ensureRoom(bytes: number): void {
    const needed = this.#length + bytes;
    if (needed <= this.#buffer.length) return;
    let capacity = this.#buffer.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = this.#pool === undefined ? Buffer.allocUnsafe(capacity) : this.#pool.take(capacity);
    this.#buffer.copy(grown, 0, 0, this.#length);
    this.#pool?.give(this.#buffer);
    this.#buffer = grown;
  }
}

/** Length (zigzag varint; -1 for null) and bytes; a string's bytes are its UTF-8. */
function sizeOfBytes(bytes: RecordBytes | null, what: string): number {
  if (bytes === null) return 1;
  let length: number;
  if (typeof bytes === 'string') length = Buffer.byteLength(bytes, 'utf8');
  else if (bytes instanceof Uint8Array) length = bytes.length;
  else throw new TopologyError('record-bytes-invalid', `an output record's ${what} is ${typeof bytes}, not bytes or a string: a sink's serde must serialize to a Buffer`);
  return signedVarintSize(length) + length;
}

function writeBytes(buffer: Buffer, at: number, bytes: RecordBytes | null): number {
  if (bytes === null) return writeSignedVarint(buffer, at, -1);
  if (typeof bytes === 'string') {
    const length = Buffer.byteLength(bytes, 'utf8');
    at = writeSignedVarint(buffer, at, length);
    return at + buffer.write(bytes, at, length, 'utf8');
  }
  at = writeSignedVarint(buffer, at, bytes.length);
  buffer.set(bytes, at);
  return at + bytes.length;
}
