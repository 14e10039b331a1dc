/**
 * The durable outbox: a LevelDB directory of events not yet acknowledged by
 * Kafka, in the order they were recorded. Appends are synchronous (fsynced)
 * writes, grouped: concurrent appends share one write, so an append resolves
 * only once its event is on disk. The sender reads from the head and removes
 * entries from the head once Kafka acknowledged them, in one write.
 *
 * Entry keys are 8-byte big-endian sequence numbers (LevelDB orders them as
 * numbers); values are the message key's length (4 bytes), the key, then the
 * record value bytes exactly as sent.
 */
import { mkdir } from 'node:fs/promises';
import { ClassicLevel } from 'classic-level';
import { UsageClientError } from './client-errors.js';

export interface OutboxEntry {
  readonly sequence: number;
  readonly key: string;
  readonly value: Buffer;
}

interface QueuedAppend {
  readonly sequence: number;
  readonly bytes: Buffer;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

type Db = ClassicLevel<Buffer, Buffer>;

function sequenceKey(sequence: number): Buffer {
  const key = Buffer.alloc(8);
  key.writeBigUInt64BE(BigInt(sequence));
  return key;
}

function encodeEntry(key: string, value: Buffer): Buffer {
  const keyBytes = Buffer.from(key, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(keyBytes.length);
  return Buffer.concat([length, keyBytes, value]);
}

function decodeEntry(sequenceBytes: Buffer, bytes: Buffer): OutboxEntry {
  const keyLength = bytes.readUInt32BE(0);
  return {
    sequence: Number(sequenceBytes.readBigUInt64BE()),
    key: bytes.subarray(4, 4 + keyLength).toString('utf8'),
    value: bytes.subarray(4 + keyLength),
  };
}

function openError(directory: string, error: unknown): UsageClientError {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  if (cause?.code === 'LEVEL_LOCKED') {
    return new UsageClientError(
      'client-outbox-locked',
      `the outbox at ${directory} is in use by another usage client (in this or another process). ` +
        'Close that client first, or give each application instance its own outboxDir.',
      { cause: error, retriable: true },
    );
  }
  return new UsageClientError('client-outbox-open-failed', `cannot open the outbox at ${directory}: ${(error as Error).message}`, { cause: error });
}

export class Outbox {
  readonly #db: Db;
  #nextSequence: number;
  /** Sequence of the oldest entry not yet removed (entries below it are gone). */
  #headSequence: number;
  #pendingCount: number;
  #appendedCount = 0;
  #removedCount = 0;
  #queued: QueuedAppend[] = [];
  #writing: Promise<void> | undefined;
  #closed = false;
  readonly #onAppended: () => void;

  private constructor(readonly directory: string, db: Db, headSequence: number, nextSequence: number, pendingCount: number, onAppended: () => void) {
    this.#db = db;
    this.#headSequence = headSequence;
    this.#nextSequence = nextSequence;
    this.#pendingCount = pendingCount;
    this.#onAppended = onAppended;
  }

  /**
   * Opens (creating if needed) the outbox in `directory`, counting the entries
   * an earlier run left. `onAppended` is called after every durable append.
   * @throws UsageClientError `client-outbox-locked` when another client holds it
   */
  static async open(directory: string, onAppended: () => void = () => undefined): Promise<Outbox> {
    await mkdir(directory, { recursive: true });
    const db: Db = new ClassicLevel<Buffer, Buffer>(directory, { keyEncoding: 'buffer', valueEncoding: 'buffer', createIfMissing: true });
    try {
      await db.open();
    } catch (error) {
      throw openError(directory, error);
    }
    let first: number | undefined;
    let last = -1;
    let count = 0;
    for await (const key of db.keys()) {
      const sequence = Number(key.readBigUInt64BE());
      first ??= sequence;
      last = sequence;
      count++;
    }
    return new Outbox(directory, db, first ?? 0, last + 1, count, onAppended);
  }

  /** Entries waiting to be acknowledged, including those an earlier run left. */
  get pendingCount(): number {
    return this.#pendingCount;
  }

  /** Entries appended (on disk) since open. */
  get appendedCount(): number {
    return this.#appendedCount;
  }

  /** Entries removed (acknowledged) since open. */
  get removedCount(): number {
    return this.#removedCount;
  }

  /** Appends one entry; resolves once it is on disk (fsynced). */
  append(key: string, value: Buffer): Promise<void> {
    if (this.#closed) return Promise.reject(new UsageClientError('client-closed', `the outbox at ${this.directory} is closed; open a new client to record`));
    const sequence = this.#nextSequence++;
    return new Promise((resolve, reject) => {
      this.#queued.push({ sequence, bytes: encodeEntry(key, value), resolve, reject });
      this.#writing ??= this.#writeQueued();
    });
  }

  /** Up to `limit` of the oldest entries, oldest first. */
  async readHead(limit: number): Promise<OutboxEntry[]> {
    const entries: OutboxEntry[] = [];
    for await (const [key, value] of this.#db.iterator({ gte: sequenceKey(this.#headSequence), limit })) entries.push(decodeEntry(key, value));
    return entries;
  }

  /** Removes `entries`, which must be the oldest ones (as `readHead` returned them), in one synchronous write. */
  async removeHead(entries: readonly OutboxEntry[]): Promise<void> {
    const last = entries[entries.length - 1];
    if (last === undefined) return;
    await this.#db.batch(entries.map((entry) => ({ type: 'del' as const, key: sequenceKey(entry.sequence) })), { sync: true });
    this.#headSequence = last.sequence + 1;
    this.#pendingCount -= entries.length;
    this.#removedCount += entries.length;
  }

  /** Waits for queued appends, then closes the database. Entries stay on disk for the next open. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#writing;
    await this.#db.close();
  }

  /** Writes everything queued, one synchronous batch at a time, in sequence order. */
  async #writeQueued(): Promise<void> {
    while (this.#queued.length > 0) {
      const batch = this.#queued;
      this.#queued = [];
      try {
        await this.#db.batch(batch.map((append) => ({ type: 'put' as const, key: sequenceKey(append.sequence), value: append.bytes })), { sync: true });
        this.#pendingCount += batch.length;
        this.#appendedCount += batch.length;
        for (const append of batch) append.resolve();
        this.#onAppended();
      } catch (error) {
        for (const append of batch) append.reject(error);
      }
    }
    this.#writing = undefined;
  }
}
