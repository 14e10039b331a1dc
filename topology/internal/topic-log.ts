/**
 * In-memory topics for the test driver: per topic, a partition count, the next
 * offset per partition, and every record in the order it was written.
 */
import type { Headers } from '../record.js';
import { DefaultPartitioner } from './partitioner.js';
import type { RawRecord } from './stream-task.js';

export interface LoggedRecord extends RawRecord {
  readonly topic: string;
}

interface Topic {
  readonly partitionCount: number;
  readonly nextOffsets: number[];
  readonly records: LoggedRecord[];
  readonly partitioner: DefaultPartitioner;
}

export class TopicLog {
  private readonly topicsByName = new Map<string, Topic>();
  private readonly defaultPartitions: (topic: string) => number;
  private readonly retain: boolean;
  private readonly onRecord: ((record: LoggedRecord) => void) | undefined;

  /**
   * `retain: false` keeps only offsets, not records (for large replays and
   * benchmarks); `onRecord` sees every record as it is written.
   */
  constructor(defaultPartitions: (topic: string) => number, retain = true, onRecord?: (record: LoggedRecord) => void) {
    this.defaultPartitions = defaultPartitions;
    this.retain = retain;
    this.onRecord = onRecord;
  }

  /** Fixes a topic's partition count before anything is written to it. */
  declare(topic: string, partitionCount: number): void {
    if (!this.topicsByName.has(topic)) this.topicsByName.set(topic, newTopic(partitionCount));
  }

  partitionCount(topic: string): number {
    return this.topic(topic).partitionCount;
  }

  /**
   * Appends a record: to `partition` when given, else by murmur2 of the key
   * (as a kafkajs producer would), else round-robin for null keys.
   */
  append(topic: string, key: Buffer | null, value: Buffer | null, timestampMs: number, headers: Headers, partition?: number): LoggedRecord {
    const t = this.topic(topic);
    const chosen = partition ?? t.partitioner.partition(key, t.partitionCount);
    if (!(Number.isInteger(chosen) && chosen >= 0 && chosen < t.partitionCount)) {
      throw new RangeError(`partition ${chosen} does not exist: topic "${topic}" has ${t.partitionCount} partition(s)`);
    }
    const offset = t.nextOffsets[chosen] ?? 0;
    t.nextOffsets[chosen] = offset + 1;
    const record: LoggedRecord = { topic, key, value, timestampMs, headers, partition: chosen, offset };
    if (this.retain) t.records.push(record);
    this.onRecord?.(record);
    return record;
  }

  /** Records from position `from` on, in write order across partitions. */
  read(topic: string, from: number): readonly LoggedRecord[] {
    return this.topicsByName.get(topic)?.records.slice(from) ?? [];
  }

  topics(): string[] {
    return [...this.topicsByName].filter(([, t]) => t.records.length > 0).map(([name]) => name);
  }

  private topic(name: string): Topic {
    let topic = this.topicsByName.get(name);
    if (topic === undefined) {
      topic = newTopic(this.defaultPartitions(name));
      this.topicsByName.set(name, topic);
    }
    return topic;
  }
}

function newTopic(partitionCount: number): Topic {
  return { partitionCount, nextOffsets: new Array<number>(partitionCount).fill(0), records: [], partitioner: new DefaultPartitioner() };
}
