/**
 * A task's output on its way to the broker, in chunks of about
 * `maxChunkBytes` (the broker refuses requests over 1 MB). Each chunk is one
 * produce request, a round trip that a commit waits for, so chunks are as
 * large as that bound allows: with 256 records a chunk (the bound kafkajs's
 * once quadratic grouping by partition called for, patched since), a task at
 * 5 000 events/s sent a chunk every ~4 ms, one after another, and its commits
 * waited for a line of them (225 ms commit rounds against 126 ms with chunks
 * bounded by bytes alone; docs/performance.md). `maxRecordsPerTopic` can
 * still bound the records of one topic in a chunk (tests use it).
 *
 * Chunks are sent one after another, never side by side: a retried chunk
 * cannot overtake the next one, so each partition keeps the order in which
 * records were produced, which compacted changelogs depend on. A commit
 * calls `drain()`; it resolves once every chunk is acknowledged and rejects
 * with the first failure. An exactly-once commit calls `endWith(commit)`
 * instead: the commit takes its place in the same line, so records added
 * while it is under way go out after it, in the next transaction, and the
 * task can go on processing meanwhile.
 *
 * When a full chunk goes out depends on `sendWhileProcessing`:
 * - true (the runtime, under either guarantee): at once, in the background,
 *   while the task goes on processing, as Kafka Streams' record collector
 *   does. Under exactly-once the task's transaction is then open while it
 *   processes;
 * - false: only at the commit (`drain()`), everything at once.
 *
 * A record is encoded when it is added, into its (topic, partition)'s record
 * set (record-set-builder.ts): a chunk holds bytes, not record objects, and
 * its size is known exactly. Each partition must be given: a sink's default
 * partition (murmur2 of the key) is chosen before `add`.
 */
import type { TopicMessages } from 'kafkajs';
import type { Headers } from '../record.js';
import { RecordBufferPool, RecordSetBuilder, type EncodedRecordSet, type RecordBytes } from './record-set-builder.js';

/**
 * Hands one chunk to the producer; resolves when the broker acknowledged all
 * of it. Once the promise settles, the chunk's record sets are written over
 * (their buffers are used again): the sender must be done with them.
 */
export type ChunkSender = (chunk: TopicMessages[]) => Promise<void>;

export interface TaskOutputOptions {
  readonly sendWhileProcessing: boolean;
  readonly maxRecordsPerTopic?: number;
  readonly maxChunkBytes?: number;
}

/** One partition's records in a chunk, as the patched kafkajs takes them: one message carrying an encoded record set. */
interface EncodedRecordsMessage {
  readonly partition: number;
  readonly value: null;
  readonly encodedRecords: EncodedRecordSet;
}

/** A chunk of output with its size in bytes (of the encoded records) and the builders of its record sets. */
type Chunk = TopicMessages[] & { readonly bytes: number; readonly builders: readonly RecordSetBuilder[] };

/** A topic's records in the chunk being gathered. */
interface TopicRecords {
  readonly byPartition: Map<number, RecordSetBuilder>;
  count: number;
}

export class TaskOutput {
  private readonly maxRecordsPerTopic: number;
  private readonly maxChunkBytes: number;
  private chunk = new Map<string, TopicRecords>();
  /** Buffers of record sets, back from chunks already sent: two chunks' worth are kept. */
  private readonly buffers: RecordBufferPool;
  private chunkBytes = 0;
  /** Full chunks waiting for the commit (when not sending while processing). */
  private held: Chunk[] = [];
  /** The last send in the chain; rejects when any send failed (later ones are then skipped). */
  private sending: Promise<void> = Promise.resolve();
  private sendFailure: { error: unknown } | undefined;
  #unacknowledgedBytes = 0;
  /** Records per topic since the last `takeCounts()` (what a successful commit made durable). */
  private counts = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly sendChunk: ChunkSender,
    private readonly options: TaskOutputOptions,
  ) {
    this.maxRecordsPerTopic = options.maxRecordsPerTopic ?? Number.POSITIVE_INFINITY;
    this.maxChunkBytes = options.maxChunkBytes ?? 512 * 1024;
    this.buffers = new RecordBufferPool(2 * this.maxChunkBytes);
  }

  /** Bytes (of their encoded records) of the chunks sent and not yet acknowledged, failed or skipped after a failure. */
  get unacknowledgedBytes(): number {
    return this.#unacknowledgedBytes;
  }

  /** Records added since the last commit (sent, in flight or still gathered). */
  get recordCount(): number {
    return this.total;
  }

  /** Encodes a record into the chunk being gathered; `partition` is the record's partition of `topic`. */
  add(topic: string, partition: number, key: RecordBytes | null, value: RecordBytes | null, timestampMs: number, headers: Headers): void {
    const records = this.chunk.get(topic) ?? { byPartition: new Map<number, RecordSetBuilder>(), count: 0 };
    const builder = records.byPartition.get(partition) ?? new RecordSetBuilder(this.buffers);
    // Appended before a new set (or topic) joins the chunk: a record refused leaves no empty set
    // behind, which the broker would refuse as a batch of no records.
    this.chunkBytes += builder.append(key, value, timestampMs, headers);
    if (records.count === 0) this.chunk.set(topic, records);
    if (builder.count === 1) records.byPartition.set(partition, builder);
    records.count++;
    this.counts.set(topic, (this.counts.get(topic) ?? 0) + 1);
    this.total++;
    // Only the topic just added to can have reached its bound: a chunk goes as soon as any topic does.
    if (records.count < this.maxRecordsPerTopic && this.chunkBytes < this.maxChunkBytes) return;
    if (this.options.sendWhileProcessing) this.dispatch(this.takeChunk());
    else this.held.push(this.takeChunk());
  }

  /** Sends everything gathered, then waits for every send; rejects with the first send's error. */
  async drain(): Promise<void> {
    for (const chunk of this.held.splice(0)) this.dispatch(chunk);
    if (this.chunk.size > 0) this.dispatch(this.takeChunk());
    await this.sending;
    if (this.sendFailure !== undefined) throw this.sendFailure.error;
  }

  /**
   * Sends everything gathered, then runs `step` (the transaction's commit)
   * once every chunk before it is acknowledged. Records added from now on
   * are sent after `step` has finished, never before; after a failure (of a
   * send or of `step`) nothing more is sent. Rejects with the first failure.
   */
  async endWith(step: () => Promise<void>): Promise<void> {
    for (const chunk of this.held.splice(0)) this.dispatch(chunk);
    if (this.chunk.size > 0) this.dispatch(this.takeChunk());
    this.chain(step);
    await this.sending;
    if (this.sendFailure !== undefined) throw this.sendFailure.error;
  }

  /** Waits for sends in flight to settle, ignoring their outcome (before aborting a transaction). */
  async settle(): Promise<void> {
    await this.sending.catch(() => undefined);
  }

  /** Counts of records per topic since the last call; call after a successful commit. */
  takeCounts(): Map<string, number> {
    const counts = this.counts;
    this.counts = new Map();
    this.total = 0;
    return counts;
  }

  /** Forgets gathered records and counts (a dirty close); sends in flight are left to fail or finish. */
  discard(): void {
    this.takeChunk();
    this.held = [];
    this.counts = new Map();
    this.total = 0;
  }

  private takeChunk(): Chunk {
    const topics: TopicMessages[] = [];
    const builders: RecordSetBuilder[] = [];
    for (const [topic, { byPartition }] of this.chunk) {
      const messages: EncodedRecordsMessage[] = [];
      for (const [partition, builder] of byPartition) {
        messages.push({ partition, value: null, encodedRecords: builder.finish() });
        builders.push(builder);
      }
      topics.push({ topic, messages });
    }
    const chunk: Chunk = Object.assign(topics, { bytes: this.chunkBytes, builders });
    this.chunk = new Map();
    this.chunkBytes = 0;
    return chunk;
  }

  private dispatch(chunk: Chunk): void {
    this.#unacknowledgedBytes += chunk.bytes;
    this.chain(
      () => this.sendChunk(chunk),
      () => {
        this.#unacknowledgedBytes -= chunk.bytes;
        // The send settled (acknowledged, failed or skipped): kafkajs is done with the bytes.
        for (const builder of chunk.builders) builder.release();
      },
    );
  }

  /** Runs `step` after everything chained before it, then `settled`; a failure skips every later step (not its `settled`). */
  private chain(step: () => Promise<void>, settled?: () => void): void {
    this.sending = this.sending.then(() =>
      step().catch((error: unknown) => {
        this.sendFailure ??= { error };
        throw error;
      }),
    );
    if (settled !== undefined) this.sending = this.sending.finally(settled);
    // Failures are reported by drain(); never as an unhandled rejection.
    this.sending.catch(() => undefined);
  }
}
