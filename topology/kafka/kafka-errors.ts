/**
 * What a Kafka error means to an instance: fenced by a newer producer
 * (close the task dirty), the broker unreachable (wait it out), a failure the
 * broker or client will get past (restart the consumer), or a failure of
 * Tally's own processing (fail the app).
 */
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

/**
 * True when the error comes from kafkajs (the broker, the network, a producer's transaction
 * state), not from the task's own processing or stores: a rebuilt task can get past it.
 */
export function isKafkaError(error: unknown): boolean {
  for (let e = error as { name?: string; originalError?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 10; depth++) {
    if (typeof e.name === 'string' && e.name.startsWith('KafkaJS')) return true;
    e = (e.originalError ?? e.cause) as typeof e | undefined;
  }
  return false;
}

/**
 * True when kafkajs refused to pause, resume, seek or commit because its
 * consumer has no group: it crashed and waits to restart (`consumer.run`'s
 * restart after a retriable failure). Nothing is wrong with the request; the
 * restarted consumer joins again, and the join puts every partition where
 * the tasks want it.
 */
export function isConsumerRestarting(error: unknown): boolean {
  const e = error as { name?: string; message?: string } | undefined;
  return e?.name === 'KafkaJSNonRetriableError' && typeof e.message === 'string' && e.message.includes('consumer#run must be called first');
}

const unreachableErrorNames = new Set(['KafkaJSConnectionError', 'KafkaJSNoBrokerAvailableError', 'KafkaJSBrokerNotFound', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError']);
const unreachableMessage = /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ETIMEDOUT|EPIPE|No broker available|Connection error|Connection timeout|Closed connection|Request .* timed out|broker not found/i;

/**
 * True when the error (or what it wraps) says the broker could not be
 * reached: connection refused or reset, no broker available, requests timing
 * out, or kafkajs giving up its retries for one of these. An outage, not a
 * verdict on the app: an always-on instance waits it out.
 */
export function isBrokerUnreachable(error: unknown): boolean {
  for (let e = error as { name?: string; message?: string; originalError?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 10; depth++) {
    if (typeof e.name === 'string' && unreachableErrorNames.has(e.name)) return true;
    if (typeof e.message === 'string' && unreachableMessage.test(e.message)) return true;
    e = (e.originalError ?? e.cause) as typeof e | undefined;
  }
  return false;
}

/**
 * Runs `job` until it does not fail for an unreachable broker (any other
 * failure is thrown), waiting 1 s, then longer, up to 10 s, between tries;
 * `onWait` hears each wait; `stop()` true ends the waiting by throwing the last error.
 */
export async function untilBrokerAnswers<T>(job: () => Promise<T>, onWait: (error: Error, waitMs: number) => void, stop: () => boolean): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await job();
    } catch (error) {
      if (!isBrokerUnreachable(error) || stop()) throw error;
      const waitMs = Math.min(10_000, 1_000 * attempt);
      onWait(error as Error, waitMs);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

/**
 * True when the consumer may be restarted after crashing with `error`: the
 * broker was unreachable, or the root cause is a kafkajs error marked
 * retriable (a coordinator loading or moving after a broker restart, a
 * leader election, a request timeout). A failure of Tally's own processing
 * (an error kafkajs did not make) is never one: the app fails on it.
 */
export function isTransientKafkaFailure(error: unknown): boolean {
  if (isBrokerUnreachable(error)) return true;
  let root = error as { name?: string; retriable?: boolean; originalError?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; root && depth < 10; depth++) {
    const next = (root.originalError ?? root.cause) as typeof root | undefined;
    if (next === undefined || next === null) break;
    root = next;
  }
  return root !== undefined && typeof root.name === 'string' && root.name.startsWith('KafkaJS') && root.retriable === true;
}
