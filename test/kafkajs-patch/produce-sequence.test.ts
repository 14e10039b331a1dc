/**
 * The idempotent producer numbers records, not messages: a partition's
 * sequence advances by the records of what it sends, so an encoded record
 * set (one message carrying many records) moves it by its record count, and
 * a failed request takes back exactly what it added. Driven through the
 * patched `producer/sendMessages.js` with a one-broker cluster and a
 * sequence book standing in for kafkajs's transaction manager.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { RecordSetBuilder } from '../../topology/kafka/record-set-builder.js';

const require = createRequire(import.meta.url);

type SendMessages = (args: { acks: number; topicMessages: { topic: string; messages: unknown[] }[] }) => Promise<unknown>;
const createSendMessages = require('kafkajs/src/producer/sendMessages') as (options: Record<string, unknown>) => SendMessages;

function encodedSet(records: number): { partition: number; value: null; encodedRecords: ReturnType<RecordSetBuilder['finish']> } {
  const builder = new RecordSetBuilder();
  for (let i = 0; i < records; i++) builder.append(Buffer.from(`k${i}`), Buffer.from('v'), 1_700_000_000_000 + i, {});
  return { partition: 1, value: null, encodedRecords: builder.finish() };
}

/** sendMessages over one broker whose produce answers as `produce` says; returns it with the sequence book and each request's first sequences. */
function harness(produce: () => Promise<unknown>) {
  const sequences = new Map<string, number>();
  const firstSequences: number[] = [];
  const broker = {
    nodeId: 0,
    produce: async (request: { topicData: { partitions: { firstSequence: number }[] }[] }) => {
      for (const topic of request.topicData) for (const partition of topic.partitions) firstSequences.push(partition.firstSequence);
      return produce();
    },
  };
  const cluster = {
    targetTopics: new Set<string>(),
    refreshMetadataIfNecessary: async () => undefined,
    addMultipleTargetTopics: async () => undefined,
    findTopicPartitionMetadata: () => [0, 1, 2].map((partitionId) => ({ partitionId, leader: 0 })),
    findLeaderForPartitions: (_topic: string, partitions: string[]) => ({ 0: partitions.map(Number) }),
    findBroker: async () => broker,
    isConnected: () => true,
  };
  const eosManager = {
    acquireBrokerLock: async () => undefined,
    releaseBrokerLock: async () => undefined,
    isTransactional: () => false,
    getProducerId: () => 7,
    getProducerEpoch: () => 0,
    getSequence: (topic: string, partition: number) => sequences.get(`${topic}-${partition}`) ?? 0,
    updateSequence: (topic: string, partition: number, increment: number) => sequences.set(`${topic}-${partition}`, (sequences.get(`${topic}-${partition}`) ?? 0) + increment),
  };
  const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
  const sendMessages = createSendMessages({
    logger,
    cluster,
    partitioner: ({ message }: { message: { partition: number } }) => message.partition,
    eosManager,
    retrier: (run: (bail: (e: Error) => never, retryCount: number, retryTime: number) => Promise<unknown>) =>
      run((error) => {
        throw error;
      }, 0, 0),
  });
  return { sendMessages, sequences, firstSequences };
}

const answer = { topics: [{ topicName: 'out', partitions: [{ partition: 1, errorCode: 0, baseOffset: '0', logAppendTime: '-1', logStartOffset: '0' }] }] };

describe('the idempotent sequence with encoded record sets', () => {
  it('advances by the records of each set, and each request starts where the last one ended', async () => {
    const { sendMessages, sequences, firstSequences } = harness(async () => answer);
    await sendMessages({ acks: -1, topicMessages: [{ topic: 'out', messages: [encodedSet(5)] }] });
    await sendMessages({ acks: -1, topicMessages: [{ topic: 'out', messages: [encodedSet(3)] }] });
    await sendMessages({ acks: -1, topicMessages: [{ topic: 'out', messages: [{ key: 'plain', value: 'v', partition: 1 }, { key: 'plain', value: 'w', partition: 1 }] }] });
    expect(firstSequences).toEqual([0, 5, 8]);
    expect(sequences.get('out-1')).toBe(10);
  });

  it('takes back exactly the records of a request that failed', async () => {
    let fail = true;
    const { sendMessages, sequences, firstSequences } = harness(async () => {
      if (fail) throw new Error('connection lost');
      return answer;
    });
    await expect(sendMessages({ acks: -1, topicMessages: [{ topic: 'out', messages: [encodedSet(4)] }] })).rejects.toThrow('connection lost');
    expect(sequences.get('out-1')).toBe(0);
    fail = false;
    await sendMessages({ acks: -1, topicMessages: [{ topic: 'out', messages: [encodedSet(4)] }] });
    expect(firstSequences).toEqual([0, 0]);
    expect(sequences.get('out-1')).toBe(4);
  });
});
