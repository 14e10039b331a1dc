/**
 * Exactly-once: the open transaction of one task's producer. It begins
 * lazily, with the first chunk of output the task sends after a commit, and
 * stays open while the task processes and sends more, until the commit ends
 * it. An open transaction pins the last stable offset of the partitions it
 * wrote to, so read_committed readers see its records only at the commit,
 * as before; the transaction timeout must outlast a commit interval.
 */
import type { Producer, TopicMessages, Transaction } from 'kafkajs';

export class TaskTransaction {
  private current: Transaction | undefined;

  constructor(private readonly producer: Producer) {}

  /** Sends one chunk inside the transaction, beginning it first if none is open. */
  readonly send = async (chunk: TopicMessages[]): Promise<void> => {
    const transaction = await this.begin();
    await transaction.sendBatch({ topicMessages: chunk, acks: -1 });
  };

  /** The open transaction, begun now if there is none. */
  async begin(): Promise<Transaction> {
    this.current ??= await this.producer.transaction();
    return this.current;
  }

  /** Commits the open transaction (beginning one if needed, so offsets alone can commit). */
  async commit(offsets: Parameters<Transaction['sendOffsets']>[0] | undefined): Promise<void> {
    const transaction = await this.begin();
    if (offsets !== undefined && offsets.topics.length > 0) await transaction.sendOffsets(offsets);
    await transaction.commit();
    this.current = undefined;
  }

  /** Aborts the open transaction, if any; errors are ignored (a fenced producer cannot abort). */
  async abort(): Promise<void> {
    const transaction = this.current;
    this.current = undefined;
    if (transaction !== undefined && transaction.isActive()) await transaction.abort().catch(() => undefined);
  }
}
