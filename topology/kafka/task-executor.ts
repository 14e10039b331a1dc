/**
 * Hands each fetched batch to whoever it is for (Kafka Streams'
 * TaskExecutor, with the routing of StreamThread): a changelog batch to its
 * restoration, a source batch to its running task, record by record, with a
 * commit whenever one is due and a turn of the event loop every few ms
 * (processing-slices.ts). Batches nobody may take now are paused and
 * fetched again later.
 */
import type { Batch, EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { ResolvedAppConfig } from './app-config.js';
import { debug, toRawRecord } from './kafka-io.js';
import type { KafkaTask } from './kafka-task.js';
import { ProcessingSlices, yieldToEventLoop } from './processing-slices.js';
import { decodeRepartitionBatch, isRepartitionBatch } from './repartition-batch.js';
import type { TaskManager } from './task-manager.js';

/** How many records of a batch pass between two checks that kafkajs still wants it processed. */
const stalenessCheckInterval = 16;

export class TaskExecutor {
  /** Processing gives the event loop a turn every 5 ms (over one batch or several). */
  private readonly slices = new ProcessingSlices();

  constructor(
    private readonly manager: TaskManager,
    private readonly config: ResolvedAppConfig,
  ) {}

  async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat } = payload;
    const partitions = this.manager.partitions;
    const restore = this.manager.restoreOf(batch.topic, batch.partition);
    if (debug) this.config.logger.info(`debug batch ${batch.topic}-${batch.partition} ${batch.firstOffset()}..${batch.lastOffset()} n=${batch.messageCount()}`);
    if (restore !== undefined) {
      const outcome = await this.manager.applyRestoreBatch(restore, batch, Number((batch as unknown as { fetchedOffset: string }).fetchedOffset));
      if (outcome === 'refused') return;
      resolveOffset(batch.lastOffset());
      if (outcome === 'restored') await this.manager.restored(restore);
      await this.heartbeatOrCommit(heartbeat);
      return;
    }
    const source = partitions.sourceOf(batch.topic);
    const task = this.manager.taskOf(batch.topic, batch.partition);
    if (source === undefined || task === undefined || !this.manager.accepts(task, batch.topic)) {
      // Not ours to process (yet), or a stream waiting for its tables: stop fetching it and re-read this batch later.
      partitions.pause(batch.topic, batch.partition);
      if (source !== undefined && batch.firstOffset() !== null) partitions.seek(batch.topic, batch.partition, batch.firstOffset() as string);
      return;
    }
    await this.process(task, source.logical, payload);
  }

  private async process(task: KafkaTask, logical: string, { batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    // The task's own position is the truth, not kafkajs's: after a rebalance kafkajs may
    // re-read a stale committed offset or reset an out-of-range one.
    const position = task.positions.get(batch.topic);
    const fetchedOffset = Number((batch as unknown as { fetchedOffset: string }).fetchedOffset);
    if (position !== undefined && fetchedOffset > position) {
      this.config.logger.warn(`task ${task.id.key}: fetched ${batch.topic}-${batch.partition} from ${fetchedOffset}, past its position ${position}; seeking back`);
      this.manager.partitions.seek(batch.topic, batch.partition, position);
      return;
    }
    let complete = true;
    const startedMs = performance.now();
    // Time the batch spent giving the event loop a turn: not processing time.
    let yieldedMs = 0;
    let processed = 0;
    // The last offset handled; resolved once, after the loop (a record kafkajs delivers again is skipped).
    let handled: string | undefined;
    const messages = await this.readerOf(task, logical, batch);
    const stream = task.stream;
    for (let index = 0, message = messages.next(); message !== null; index++, message = messages.next()) {
      if (this.slices.turnDue(index === 0)) {
        // Between two records: a read that runs now sees whole records (task-reads.ts).
        const turnStartedMs = performance.now();
        await yieldToEventLoop();
        this.slices.turnGiven();
        yieldedMs += performance.now() - turnStartedMs;
      }
      // Stop when the batch is stale. kafkajs's checks cost a lookup each: every few records
      // suffice, as records of a stale batch are still this task's to process.
      if (index % stalenessCheckInterval === 0 && (!isRunning() || isStale())) {
        complete = false;
        break;
      }
      const offset = Number(message.offset);
      if (position === undefined || offset >= position) {
        const raw = toRawRecord(message, batch.partition);
        let count = 1;
        if (isRepartitionBatch(raw)) {
          const records = decodeRepartitionBatch(raw);
          for (const record of records) stream.process(logical, record);
          count = records.length;
        } else {
          stream.process(logical, raw);
        }
        task.processed(batch.topic, offset);
        processed += count;
        this.slices.processed(count);
      }
      handled = message.offset;
      // A cache that outgrew its capacity asks for an early commit: dirty entries leave only by a flush.
      if (!this.manager.commitDue() && (index % stalenessCheckInterval !== 0 || !stream.needsCommit)) continue;
      await this.manager.commitAll();
      // A commit that found this task fenced closed it: nothing more of this batch is ours.
      if (!this.manager.owns(task)) {
        complete = false;
        break;
      }
    }
    if (handled !== undefined) resolveOffset(handled);
    if (processed > 0) this.config.observer?.recordsProcessed?.(task.id.key, batch.topic, batch.partition, processed, performance.now() - startedMs - yieldedMs);
    if (complete && this.manager.owns(task)) {
      // A trailing transaction marker belongs to the batch: kafkajs resolves it, so must we.
      const end = Number(batch.lastOffset()) + 1;
      if (end > (task.positions.get(batch.topic) ?? 0)) task.positions.set(batch.topic, end);
      resolveOffset(batch.lastOffset());
    }
    task.noteEndOffset(batch.topic, Number(batch.highWatermark), this.manager.partitions.sourceTopicsOf(task.id).length);
    if (this.manager.owns(task)) this.manager.bootstrapAdvanced(task, batch.topic);
    await this.heartbeatOrCommit(heartbeat);
  }

  /**
   * The batch's records one at a time, each decoded as it is reached (the patched kafkajs
   * keeps a fetch's record batches as bytes until then, so that a fetch being processed
   * does not hold every record of it as objects). What the batch needs fetched (Avro writer
   * schemas) is fetched before any of it is processed: that reads every value first.
   */
  private async readerOf(task: KafkaTask, logical: string, batch: Batch): Promise<{ next(): KafkaMessage | null }> {
    if (!task.stream.hasPrepare(logical)) return batch.messageReader();
    const messages = batch.messages;
    const preparing = task.stream.prepare(logical, messages.map((message) => message.value));
    if (preparing !== undefined) await preparing;
    let index = 0;
    return { next: () => (index < messages.length ? (messages[index++] as KafkaMessage) : null) };
  }

  /**
   * kafkajs consumes batches of transaction markers, aborted records, or record
   * batches the log cleaner emptied itself; their end still moves a restoration,
   * or a task's source position, forward. The batch covers `fetchedOffset..lastOffset`.
   */
  async onBatchEnd(topic: string, partition: number, fetchedOffset: number, lastOffset: number, highWatermark: number): Promise<void> {
    const restore = this.manager.restoreOf(topic, partition);
    if (restore !== undefined) {
      await this.manager.advanceRestore(restore, fetchedOffset, lastOffset + 1);
      return;
    }
    const task = this.manager.taskOf(topic, partition);
    const position = task?.positions.get(topic);
    // Only a batch that starts at (or before) the task's position moves it. One fetched before
    // the task was rebuilt (closed dirty and reopened at its committed progress) starts past
    // it: taking its end would skip the records in between for good.
    if (task === undefined || position === undefined) return;
    const contiguous = fetchedOffset <= position;
    if (contiguous && lastOffset + 1 > position) task.positions.set(topic, lastOffset + 1);
    // A partition can end with such a batch: reaching its end counts towards being caught up.
    task.noteEndOffset(topic, highWatermark, this.manager.partitions.sourceTopicsOf(task.id).length);
    this.manager.bootstrapAdvanced(task, topic);
  }

  /** Heartbeats; when the group is rebalancing, commits every task first so revocation loses nothing. */
  private async heartbeatOrCommit(heartbeat: () => Promise<void>): Promise<void> {
    if (this.manager.commitDue()) await this.manager.commitAll();
    try {
      await heartbeat();
    } catch (error) {
      if ((error as { type?: string }).type === 'REBALANCE_IN_PROGRESS') await this.manager.commitAll();
      throw error;
    }
  }
}
