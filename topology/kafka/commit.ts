/**
 * The commit protocol, per task.
 *
 * Exactly-once (one transaction per task and commit):
 *   1. flush the task's store caches: changelog records join its pending
 *      output, data goes to LevelDB (uncommitted until step 5);
 *   2. record source positions and stream time in the progress store;
 *   3. begin a transaction on the task's own producer;
 *   4. send every pending record (outputs, repartition records, changelogs);
 *   5. add the source offsets (with stream time as metadata) and commit.
 * A fenced producer means another instance owns the task: the task must be
 * closed dirty. Its local state carries no valid checkpoint, so it is rebuilt
 * from the changelog the next time it is opened.
 *
 * At-least-once: steps 1–2, then send with the shared idempotent producer,
 * then commit the consumer offsets.
 */
import type { Consumer, Message, Producer, TopicMessages } from 'kafkajs';
import { TaskMigratedError, type KafkaTask } from './kafka-task.js';

const fencingErrors = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'INVALID_PRODUCER_ID_MAPPING', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

/** True when the error (or what it wraps) says this producer was fenced by a newer one. */
export function isFencingError(error: unknown): boolean {
  for (let e = error as { type?: string; name?: string; originalError?: unknown; cause?: unknown } | undefined; e; ) {
    if (e.type !== undefined && fencingErrors.has(e.type)) return true;
    if (e.name === 'KafkaJSNonRetriableError' && /fenced|epoch/i.test(String((e as Error).message))) return true;
    e = (e.originalError ?? e.cause) as typeof e | undefined;
  }
  return false;
}

/** Largest payload of one sendBatch call; a broker refuses record batches over 1 MB by default. */
const maxSendBytes = 512 * 1024;

/** Splits a commit's output into sendBatch-sized chunks, keeping each topic's record order. */
export function chunkTopicMessages(topicMessages: readonly TopicMessages[], limitBytes = maxSendBytes): TopicMessages[][] {
  const chunks: TopicMessages[][] = [];
  let chunk: TopicMessages[] = [];
  let bytes = 0;
  for (const { topic, messages } of topicMessages) {
    let current: Message[] = [];
    for (const message of messages) {
      const size = (message.key?.length ?? 0) + (message.value?.length ?? 0) + 64;
      if (bytes + size > limitBytes && bytes > 0) {
        if (current.length > 0) chunk.push({ topic, messages: current });
        chunks.push(chunk);
        chunk = [];
        current = [];
        bytes = 0;
      }
      current.push(message);
      bytes += size;
    }
    if (current.length > 0) chunk.push({ topic, messages: current });
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

export async function commitExactlyOnce(task: KafkaTask, groupId: string): Promise<void> {
  const producer = task.producer;
  if (producer === undefined) throw new Error(`task ${task.id} has no transactional producer`);
  // Steps 1–2.
  await task.prepareCommit();
  const topicMessages = task.takePending();
  const offsets = task.offsetsToCommit();
  // Step 3.
  let transaction;
  try {
    transaction = await producer.transaction();
  } catch (error) {
    if (isFencingError(error)) throw new TaskMigratedError(task.id, error);
    throw error;
  }
  try {
    // Step 4.
    for (const chunk of chunkTopicMessages(topicMessages)) await transaction.sendBatch({ topicMessages: chunk, acks: -1 });
    // Step 5.
    if (offsets.length > 0) await transaction.sendOffsets({ consumerGroupId: groupId, topics: offsets });
    await transaction.commit();
  } catch (error) {
    if (isFencingError(error)) throw new TaskMigratedError(task.id, error);
    await transaction.abort().catch(() => undefined);
    throw error;
  }
}

export async function commitAtLeastOnce(task: KafkaTask, producer: Producer, consumer: Consumer): Promise<void> {
  await task.prepareCommit();
  const topicMessages = task.takePending();
  const offsets = task.offsetsToCommit();
  for (const chunk of chunkTopicMessages(topicMessages)) await producer.sendBatch({ topicMessages: chunk, acks: -1 });
  if (offsets.length > 0) {
    await consumer.commitOffsets(offsets.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: p.offset, metadata: p.metadata }))));
  }
}
