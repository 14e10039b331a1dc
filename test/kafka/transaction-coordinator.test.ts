/**
 * The patched kafkajs keeps the transaction and group coordinators it looked
 * up, and sends an AddPartitionsToTxn refused with CONCURRENT_TRANSACTIONS
 * again itself (test/kafkajs-patch/transaction-coordinator.test.ts has the
 * failure paths): on a real broker, transactions that write and commit
 * offsets take no FindCoordinator and no Metadata request once the
 * coordinators are known, and still commit.
 */
import { describe, expect, it } from 'vitest';
import { createTopics, kafkaClient, readTopic, uniqueName } from './kafka-helpers.js';

describe('transactions with the coordinators kept (patched kafkajs)', () => {
  it('commits transactions with offsets on a real broker with no FindCoordinator or Metadata request once the coordinators are known', async () => {
    const topic = uniqueName('coordinator-out');
    const input = uniqueName('coordinator-in');
    const groupId = uniqueName('coordinator-group');
    await createTopics({ [topic]: 2, [input]: 1 });
    const producer = kafkaClient().producer({ transactionalId: uniqueName('coordinator-tx'), idempotent: true, maxInFlightRequests: 1 });
    const requests: string[] = [];
    await producer.connect();
    try {
      for (let i = 0; i < 4; i++) {
        // From the second transaction on: the coordinators are known.
        if (i === 1) producer.on(producer.events.REQUEST, ({ payload }) => void requests.push((payload as { apiName: string }).apiName));
        const transaction = await producer.transaction();
        await transaction.send({ topic, messages: [{ key: `k${i}`, value: `v${i}` }], acks: -1 });
        await transaction.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition: 0, offset: String(i + 1) }] }] });
        await transaction.commit();
      }
    } finally {
      await producer.disconnect();
    }
    // kafkajs 2.2.4 asked for a coordinator before each AddPartitionsToTxn, AddOffsetsToTxn,
    // TxnOffsetCommit and EndTxn, and again for each AddPartitionsToTxn retried after
    // CONCURRENT_TRANSACTIONS (the broker still writing the last commit's markers).
    expect(requests.filter((name) => name === 'GroupCoordinator')).toEqual([]);
    // kafkajs 2.2.4 let that CONCURRENT_TRANSACTIONS fail the send, whose retrier refreshed the metadata.
    expect(requests.filter((name) => name === 'Metadata')).toEqual([]);
    expect(requests.filter((name) => name === 'EndTxn')).toHaveLength(3);
    expect(requests.filter((name) => name === 'TxnOffsetCommit')).toHaveLength(3);
    const read = await readTopic(topic, { readCommitted: true });
    expect(read.map((r) => r.value).sort()).toEqual(['v0', 'v1', 'v2', 'v3']);
    const admin = kafkaClient().admin();
    await admin.connect();
    try {
      const [committed] = await admin.fetchOffsets({ groupId, topics: [input] });
      expect(committed?.partitions[0]?.offset).toBe('4');
    } finally {
      await admin.disconnect();
    }
  });
});
