/**
 * Coordinators kept by the transactional producer, in the patched kafkajs.
 * kafkajs 2.2.4 sent a FindCoordinator request before every AddPartitionsToTxn,
 * AddOffsetsToTxn, TxnOffsetCommit and EndTxn; the patch looks each
 * coordinator up once, forgets it when a request to it fails, and sends a
 * request it refused as not the coordinator once more, to the one looked up
 * afresh. On a real broker: test/kafka/transaction-coordinator.test.ts.
 */
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from './kafkajs-internals.js';

const require = createRequire(import.meta.url);
const createEosManager = require('kafkajs/src/producer/eosManager') as (options: Record<string, unknown>) => {
  initProducerId(): Promise<void>;
  beginTransaction(): void;
  addPartitionsToTransaction(topicData: { topic: string; partitions: { partition: number }[] }[]): Promise<void>;
  sendOffsets(options: { consumerGroupId: string; topics: { topic: string; partitions: { partition: number; offset: string }[] }[] }): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
};
const { KafkaJSProtocolError, KafkaJSConnectionError } = require('kafkajs/src/errors') as {
  KafkaJSProtocolError: new (e: { message: string; type: string; retriable: boolean; code: number }) => Error;
  KafkaJSConnectionError: new (message: string) => Error;
};
const COORDINATOR_TYPES = require('kafkajs/src/protocol/coordinatorTypes') as { GROUP: number; TRANSACTION: number };

const notCoordinator = () => new KafkaJSProtocolError({ message: 'This is not the correct coordinator for this group', type: 'NOT_COORDINATOR_FOR_GROUP', retriable: true, code: 16 });
const concurrentTransactions = () =>
  new KafkaJSProtocolError({ message: 'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing', type: 'CONCURRENT_TRANSACTIONS', retriable: true, code: 51 });
const fenced = () => new KafkaJSProtocolError({ message: 'Producer attempted an operation with an old epoch', type: 'INVALID_PRODUCER_EPOCH', retriable: false, code: 47 });

/**
 * A cluster of brokers 1 and 2, stubbed: `coordinator` says which node each
 * FindCoordinator names; every request a broker gets is logged as
 * "<node>:<request>"; `failNext` makes a broker's next request fail,
 * `failAddPartitions` its next `times` AddPartitionsToTxn requests.
 */
function stubCluster() {
  const log: string[] = [];
  const coordinator = { [COORDINATOR_TYPES.TRANSACTION]: 1, [COORDINATOR_TYPES.GROUP]: 1 };
  const failNext = new Map<number, () => Error>();
  const failAddPartitions = { failure: concurrentTransactions, times: 0 };
  const broker = (nodeId: number) => {
    const request = (name: string, result: unknown = {}) => async () => {
      log.push(`${nodeId}:${name}`);
      const failure = failNext.get(nodeId);
      failNext.delete(nodeId);
      if (failure !== undefined) throw failure();
      if (name === 'AddPartitionsToTxn' && failAddPartitions.times > 0) {
        failAddPartitions.times--;
        throw failAddPartitions.failure();
      }
      return result;
    };
    return {
      nodeId,
      initProducerId: request('InitProducerId', { producerId: 7, producerEpoch: 0 }),
      addPartitionsToTxn: request('AddPartitionsToTxn'),
      addOffsetsToTxn: request('AddOffsetsToTxn'),
      txnOffsetCommit: request('TxnOffsetCommit'),
      endTxn: request('EndTxn'),
    };
  };
  const brokersById = new Map([1, 2].map((id) => [id, broker(id)]));
  const cluster = {
    retry: { retries: 2, initialRetryTime: 1, maxRetryTime: 2 },
    refreshMetadataIfNecessary: async () => undefined,
    findBroker: async ({ nodeId }: { nodeId: number }) => brokersById.get(nodeId),
    findGroupCoordinator: async ({ coordinatorType }: { coordinatorType: number }) => {
      const nodeId = coordinator[coordinatorType] as number;
      log.push(`find:${coordinatorType === COORDINATOR_TYPES.TRANSACTION ? 'transaction' : 'group'}->${nodeId}`);
      return brokersById.get(nodeId);
    },
  };
  const eos = createEosManager({ logger: silentLogger(), cluster, transactional: true, transactionalId: 'tx-1' });
  return { eos, log, coordinator, failNext, failAddPartitions };
}

const offsetsOf = (offset: number) => ({ consumerGroupId: 'g', topics: [{ topic: 'in', partitions: [{ partition: 0, offset: String(offset) }] }] });

async function oneTransaction(eos: ReturnType<typeof stubCluster>['eos'], partition: number): Promise<void> {
  eos.beginTransaction();
  await eos.addPartitionsToTransaction([{ topic: 't', partitions: [{ partition }] }]);
  await eos.sendOffsets(offsetsOf(partition));
  await eos.commit();
}

describe('the transactional producer keeps its coordinators (patched kafkajs)', () => {
  it('looks each coordinator up once over many transactions', async () => {
    const { eos, log } = stubCluster();
    await eos.initProducerId();
    for (let i = 0; i < 3; i++) await oneTransaction(eos, i);
    expect(log.filter((entry) => entry.startsWith('find:'))).toEqual(['find:transaction->1', 'find:group->1']);
    expect(log.filter((entry) => !entry.startsWith('find:'))).toEqual([
      '1:InitProducerId',
      ...Array.from({ length: 3 }, () => ['1:AddPartitionsToTxn', '1:AddOffsetsToTxn', '1:TxnOffsetCommit', '1:EndTxn']).flat(),
    ]);
  });

  it('sends a request refused as not the coordinator again, to the coordinator looked up afresh, and keeps that one', async () => {
    const { eos, log, coordinator, failNext } = stubCluster();
    await eos.initProducerId();
    await oneTransaction(eos, 0);
    // The transaction coordinator moves to broker 2; broker 1 refuses the next request.
    coordinator[COORDINATOR_TYPES.TRANSACTION] = 2;
    failNext.set(1, notCoordinator);
    log.length = 0;
    await oneTransaction(eos, 1);
    await oneTransaction(eos, 2);
    expect(log).toEqual([
      '1:AddPartitionsToTxn', // refused
      'find:transaction->2',
      '2:AddPartitionsToTxn',
      '2:AddOffsetsToTxn',
      '1:TxnOffsetCommit', // the group coordinator did not move
      '2:EndTxn',
      '2:AddPartitionsToTxn',
      '2:AddOffsetsToTxn',
      '1:TxnOffsetCommit',
      '2:EndTxn',
    ]);
  });

  /** After one transaction, the next one's AddOffsetsToTxn fails with `failure`, then it is aborted: what each broker got since. */
  async function abortAfterFailedOffsets(failure: () => Error, expected: RegExp): Promise<string[]> {
    const { eos, log, failNext } = stubCluster();
    await eos.initProducerId();
    await oneTransaction(eos, 0);
    eos.beginTransaction();
    await eos.addPartitionsToTransaction([{ topic: 't', partitions: [{ partition: 1 }] }]);
    failNext.set(1, failure);
    log.length = 0;
    await expect(eos.sendOffsets(offsetsOf(1))).rejects.toThrow(expected);
    await eos.abort();
    return log;
  }

  it('keeps the coordinator after its own answer (a fenced epoch), throws it, and does not send the request again', async () => {
    expect(await abortAfterFailedOffsets(fenced, /old epoch/)).toEqual(['1:AddOffsetsToTxn', '1:EndTxn']);
  });

  it('forgets the coordinator when a request to it fails without an answer (the connection lost), and looks it up again next time', async () => {
    const lost = () => new KafkaJSConnectionError('Connection error: read ECONNRESET');
    expect(await abortAfterFailedOffsets(lost, /ECONNRESET/)).toEqual(['1:AddOffsetsToTxn', 'find:transaction->1', '1:EndTxn']);
  });
});

describe('AddPartitionsToTxn refused with CONCURRENT_TRANSACTIONS (patched kafkajs)', () => {
  afterEach(() => vi.useRealTimers());

  it('is sent again by the transaction manager after a short wait, to the same coordinator; the send never sees the refusal', async () => {
    const { eos, log, failAddPartitions } = stubCluster();
    await eos.initProducerId();
    await oneTransaction(eos, 0);
    // The broker is still writing the last commit's markers: it refuses the next transaction's first AddPartitionsToTxn twice.
    failAddPartitions.times = 2;
    log.length = 0;
    await oneTransaction(eos, 1);
    // No lookup in between: the refusal is the coordinator's own answer.
    expect(log).toEqual(['1:AddPartitionsToTxn', '1:AddPartitionsToTxn', '1:AddPartitionsToTxn', '1:AddOffsetsToTxn', '1:TxnOffsetCommit', '1:EndTxn']);
  });

  it('throws the refusal as before once the coordinator has refused it through every wait', async () => {
    vi.useFakeTimers();
    const { eos, log, failAddPartitions } = stubCluster();
    await eos.initProducerId();
    failAddPartitions.times = Number.POSITIVE_INFINITY;
    log.length = 0;
    eos.beginTransaction();
    const adding = eos.addPartitionsToTransaction([{ topic: 't', partitions: [{ partition: 0 }] }]);
    // The refusal itself, retriable, so that the send's retrier goes on as before (not a wrapper it takes as final).
    const outcome = expect(adding).rejects.toMatchObject({ type: 'CONCURRENT_TRANSACTIONS', retriable: true, message: expect.stringMatching(/concurrent operation/) });
    await vi.runAllTimersAsync();
    await outcome;
    const attempts = log.filter((entry) => entry === '1:AddPartitionsToTxn').length;
    expect(attempts).toBeGreaterThan(5);
    expect(attempts).toBeLessThan(20);
    expect(log.filter((entry) => entry !== '1:AddPartitionsToTxn')).toEqual([]);
  });

  it('does not wait on other refusals: a fenced epoch is thrown at once', async () => {
    const { eos, log, failAddPartitions } = stubCluster();
    await eos.initProducerId();
    failAddPartitions.failure = fenced;
    failAddPartitions.times = 1;
    log.length = 0;
    eos.beginTransaction();
    await expect(eos.addPartitionsToTransaction([{ topic: 't', partitions: [{ partition: 0 }] }])).rejects.toThrow(/old epoch/);
    expect(log).toEqual(['1:AddPartitionsToTxn']);
  });
});
