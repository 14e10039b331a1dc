/**
 * kafkajs's log through the app's logger: what kafkajs retries by itself is
 * debug, a real error stays an error, and every line is one readable string.
 */
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { isRetriedByKafkajs, kafkajsLogCreator } from '../../topology/kafka/kafkajs-logger.js';

function capture(withDebug: boolean) {
  const lines: { level: string; line: string }[] = [];
  const logger = {
    info: (line: string) => lines.push({ level: 'info', line }),
    warn: (line: string) => lines.push({ level: 'warn', line }),
    error: (line: string) => lines.push({ level: 'error', line }),
    ...(withDebug ? { debug: (line: string) => lines.push({ level: 'debug', line }) } : {}),
  };
  const log = kafkajsLogCreator(logger)(kafkajs.logLevel.ERROR);
  const write = (level: number, namespace: string, message: string, extra: Record<string, unknown> = {}) =>
    log({ namespace, level, label: 'LABEL', log: { timestamp: '2024-01-01T00:00:00.000Z', message, ...extra } });
  return { lines, write };
}

describe('the kafkajs log creator', () => {
  it('turns the retried "group coordinator is not available" error into a debug line', () => {
    const { lines, write } = capture(true);
    write(kafkajs.logLevel.ERROR, 'Connection', 'Response GroupCoordinator(key: 10, version: 2)', { error: 'The group coordinator is not available', correlationId: 3 });
    expect(lines).toEqual([{ level: 'debug', line: 'kafkajs [Connection] Response GroupCoordinator(key: 10, version: 2): The group coordinator is not available' }]);
  });

  it('drops retried errors when the logger has no debug level', () => {
    const { lines, write } = capture(false);
    write(kafkajs.logLevel.ERROR, 'Connection', 'Response Metadata(key: 3, version: 6)', { error: 'There is no leader for this topic-partition as we are in the middle of a leadership election' });
    write(kafkajs.logLevel.ERROR, 'Connection', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    expect(lines).toEqual([]);
  });

  it('turns the producer\'s retried sends into debug lines, by their own line or the retrier\'s', () => {
    const { lines, write } = capture(true);
    const concurrent = 'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing';
    write(kafkajs.logLevel.ERROR, 'Producer', `Failed to send messages: ${concurrent}`, { retryCount: 0, retryTime: 300 });
    write(kafkajs.logLevel.ERROR, 'Producer', concurrent, { retryCount: 1, retryTime: 600 });
    expect(lines.map((l) => l.level)).toEqual(['debug', 'debug']);
  });

  it('keeps an error kafkajs does not retry as an error', () => {
    const { lines, write } = capture(true);
    write(kafkajs.logLevel.ERROR, 'Connection', 'Response Produce(key: 0, version: 7)', { error: 'The producer attempted to use a producer id which is not currently assigned to its transactional id' });
    write(kafkajs.logLevel.ERROR, 'Consumer', 'Crash: KafkaJSNonRetriableError: boom');
    write(kafkajs.logLevel.ERROR, 'Producer', 'The group coordinator is not available'); // no retry attempt attached
    expect(lines.map((l) => l.level)).toEqual(['error', 'error', 'error']);
    expect(lines[1]?.line).toBe('kafkajs [Consumer] Crash: KafkaJSNonRetriableError: boom');
  });

  it('says why a batch callback failed when kafkajs logs the Error itself', () => {
    const { lines, write } = capture(true);
    write(kafkajs.logLevel.ERROR, 'Runner', 'Error when calling eachBatch', { topic: 't', partition: 1, error: new Error('reading offsets of t failed after 20 attempt(s)') });
    expect(lines).toEqual([{ level: 'error', line: 'kafkajs [Runner] Error when calling eachBatch: reading offsets of t failed after 20 attempt(s)' }]);
  });

  it('keeps warnings and information at their level', () => {
    const { lines, write } = capture(true);
    write(kafkajs.logLevel.WARN, 'Producer', 'a warning');
    write(kafkajs.logLevel.INFO, 'Consumer', 'Starting');
    expect(lines).toEqual([
      { level: 'warn', line: 'kafkajs [Producer] a warning' },
      { level: 'info', line: 'kafkajs [Consumer] Starting' },
    ]);
  });

  it('knows retriable broker errors from kafkajs\'s own table', () => {
    expect(isRetriedByKafkajs({ message: 'Response JoinGroup', error: 'This is not the correct coordinator for this group' })).toBe(true);
    expect(isRetriedByKafkajs({ message: 'Response SaslAuthenticate', error: 'SASL Authentication failed' })).toBe(false);
  });
});
