/**
 * Looking up the group coordinator while the broker restarts. kafkajs tries
 * each broker, swallows why each failed and throws a non-retriable
 * "Failed to find group coordinator": a consumer that meets it mid-lookup
 * crashes for good, never consulting `restartOnFailure`. The patch keeps the
 * last failure as the cause, so a connection failure stays what it is:
 * retriable, and the consumer restarts once the broker is back.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { silentLogger } from './kafkajs-internals.js';

const require = createRequire(import.meta.url);
const Cluster = require('kafkajs/src/cluster') as new (options: Record<string, unknown>) => {
  brokerPool: unknown;
  findGroupCoordinatorMetadata(options: { groupId: string }): Promise<unknown>;
};
const errors = require('kafkajs/src/errors') as Record<string, new (message: string, options?: Record<string, unknown>) => Error & { retriable: boolean; type?: string }>;

interface CrashCause {
  readonly name: string;
  readonly retriable?: boolean;
  readonly cause?: CrashCause;
}

/** How kafkajs's consumer decides, after a crash, whether it may restart at all (consumer/index.js). */
function consumerMayRestart(error: CrashCause): boolean {
  let original = error;
  while (original.cause !== undefined) original = original.cause;
  return error.name === 'KafkaJSNumberOfRetriesExceeded' || original.retriable === true;
}

/** A cluster of one broker whose coordinator lookup fails with `failure`. */
function clusterFailingWith(failure: () => Error): InstanceType<typeof Cluster> {
  const cluster = new Cluster({ logger: silentLogger(), brokers: ['127.0.0.1:9'], retry: { retries: 1, initialRetryTime: 1, maxRetryTime: 2 } });
  cluster.brokerPool = {
    // As kafkajs's BrokerPool.withBroker: every broker is tried, its failure swallowed.
    withBroker: async (callback: (b: { nodeId: number; broker: unknown }) => Promise<unknown>) => {
      try {
        return await callback({ nodeId: 0, broker: { findGroupCoordinator: async () => Promise.reject(failure()) } });
      } catch {
        return null;
      }
    },
  };
  return cluster;
}

async function lookupFailure(cluster: InstanceType<typeof Cluster>): Promise<CrashCause & Error> {
  try {
    await cluster.findGroupCoordinatorMetadata({ groupId: 'g' });
  } catch (error) {
    return error as CrashCause & Error;
  }
  throw new Error('the lookup was expected to fail');
}

describe('the group coordinator lookup, in the patched kafkajs', () => {
  it('a lookup that fails because the broker is unreachable leaves a crash the consumer restarts from', async () => {
    const KafkaJSConnectionError = errors.KafkaJSConnectionError as new (message: string) => Error;
    const error = await lookupFailure(clusterFailingWith(() => new KafkaJSConnectionError('Connection error: read ECONNRESET')));
    expect(error.message).toBe('Failed to find group coordinator');
    expect(error.name).toBe('KafkaJSGroupCoordinatorNotFound');
    expect(consumerMayRestart(error)).toBe(true);
    // What Tally's restartOnFailure looks at: the unreachable broker, down the chain of causes.
    const messages: string[] = [];
    for (let e: CrashCause | undefined = error; e !== undefined; e = e.cause) messages.push((e as unknown as Error).message);
    expect(messages.some((m) => /ECONNRESET/.test(m))).toBe(true);
  });

  it('a lookup that fails for a reason no retry cures stays a crash for good', async () => {
    const KafkaJSProtocolError = errors.KafkaJSProtocolError as unknown as new (e: { message: string; type: string; retriable: boolean }) => Error;
    const error = await lookupFailure(clusterFailingWith(() => new KafkaJSProtocolError({ message: 'Not authorized to access group', type: 'GROUP_AUTHORIZATION_FAILED', retriable: false })));
    expect(error.name).toBe('KafkaJSGroupCoordinatorNotFound');
    expect(consumerMayRestart(error)).toBe(false);
  });
});
