/**
 * Which consumer crashes an instance restarts from: a broker restart's
 * transient errors (unreachable, coordinator loading) yes, its own
 * processing failures no — built from kafkajs's own error classes, wrapped
 * as kafkajs wraps them when its retries run out.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { isTransientKafkaFailure } from '../../topology/kafka/kafka-errors.js';

const require = createRequire(import.meta.url);
type ErrorClass = new (e: unknown, options?: Record<string, unknown>) => Error;
const errors = require('kafkajs/src/errors') as Record<string, ErrorClass>;
const { KafkaJSProtocolError, KafkaJSNumberOfRetriesExceeded, KafkaJSNonRetriableError, KafkaJSConnectionError } = errors as Record<string, ErrorClass>;

/** As kafkajs's retrier gives up on `cause`. */
const retriesExhausted = (cause: Error) => new (KafkaJSNumberOfRetriesExceeded as ErrorClass)(cause, { retryCount: 5, retryTime: 1000, cause });

describe('isTransientKafkaFailure', () => {
  it('restarts after a coordinator that was still loading (a broker restart)', () => {
    const loading = new (KafkaJSProtocolError as ErrorClass)({ message: "The coordinator is loading and hence can't process requests for this group", type: 'COORDINATOR_LOAD_IN_PROGRESS', retriable: true });
    expect(isTransientKafkaFailure(loading)).toBe(true);
    expect(isTransientKafkaFailure(retriesExhausted(loading))).toBe(true);
  });

  it('restarts after an unreachable broker', () => {
    expect(isTransientKafkaFailure(retriesExhausted(new (KafkaJSConnectionError as ErrorClass)('Connection error: connect ECONNREFUSED 127.0.0.1:9092')))).toBe(true);
  });

  it('does not restart after a failure of the app’s own processing, even wrapped by kafkajs', () => {
    const own = new Error('store key contains a lone UTF-16 surrogate');
    expect(isTransientKafkaFailure(own)).toBe(false);
    expect(isTransientKafkaFailure(retriesExhausted(own))).toBe(false);
  });

  it('does not restart after a Kafka error no retry cures', () => {
    const denied = new (KafkaJSProtocolError as ErrorClass)({ message: 'Not authorized to access group', type: 'GROUP_AUTHORIZATION_FAILED', retriable: false });
    expect(isTransientKafkaFailure(new (KafkaJSNonRetriableError as ErrorClass)(denied, { cause: denied }))).toBe(false);
  });
});
