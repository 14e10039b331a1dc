/**
 * kafkajs's log, routed through the app's own logger instead of kafkajs's
 * console writer (its `logCreator`).
 *
 * kafkajs logs at ERROR every failed response, also the ones it answers by
 * retrying: while a consumer group forms the broker says "The group
 * coordinator is not available" a few times, and kafkajs asks again. Those
 * are not errors to whoever runs Tally, so a logged error that kafkajs
 * retries by itself — a retriable protocol error, a connection that failed or
 * timed out — goes to `debug` (dropped when the logger has none). Everything
 * else keeps its level: a real error stays an error, prefixed `kafkajs` with
 * the component that logged it.
 */
import { createRequire } from 'node:module';
import kafkajs, { type logCreator, type LogEntry } from 'kafkajs';
import type { AppLogger } from './app-config.js';

const require = createRequire(import.meta.url);

/** kafkajs's table of broker error codes; each says whether kafkajs retries it. */
const { errorCodes } = require('kafkajs/src/protocol/error.js') as { errorCodes: readonly { message: string; retriable: boolean }[] };

/** Messages of the broker errors kafkajs retries (e.g. "The group coordinator is not available"). */
const retriableMessages = new Set(errorCodes.filter((code) => code.retriable).map((code) => code.message));

/** kafkajs reconnects and retries after these; a broker that stays away shows up in readiness and the app's own warnings. */
const retriedByKafkajs = [/^Connection error/i, /^Connection timeout/i, /^Request .* timed out/i, /^Closed connection/i, /ECONNREFUSED|ECONNRESET|ETIMEDOUT/];

/** kafkajs's producer logs this line only for an error it is about to retry (a lost connection, a retriable broker error). */
const producerRetryLine = /^Failed to send messages: /;

/** Whether kafkajs logged this at ERROR but deals with it by retrying. */
export function isRetriedByKafkajs(entry: Pick<LogEntry['log'], 'message'> & { readonly error?: unknown; readonly retryCount?: unknown }): boolean {
  const error = typeof entry.error === 'string' ? entry.error : '';
  if (retriableMessages.has(error) || producerRetryLine.test(entry.message)) return true;
  // A retrier's own line: the error's message, with the attempt it is on.
  if (entry.retryCount !== undefined && retriableMessages.has(entry.message)) return true;
  return retriedByKafkajs.some((pattern) => pattern.test(entry.message) || pattern.test(error));
}

/** One line: `kafkajs [Connection] Response GroupCoordinator(key: 10, version: 2): The group coordinator is not available`. */
export function formatKafkajsEntry({ namespace, log }: Pick<LogEntry, 'namespace' | 'log'>): string {
  const logged = (log as { error?: unknown }).error;
  // Mostly a message; the runner logs the Error itself (e.g. "Error when calling eachBatch").
  const error = logged instanceof Error ? logged.message : logged;
  return `kafkajs [${namespace}] ${log.message}${typeof error === 'string' && error !== '' ? `: ${error}` : ''}`;
}

/** The `logCreator` for `new Kafka({ logCreator })`: kafkajs levels onto `logger`. */
export function kafkajsLogCreator(logger: AppLogger): logCreator {
  return () => (entry) => {
    const line = formatKafkajsEntry(entry);
    switch (entry.level) {
      case kafkajs.logLevel.ERROR:
        if (isRetriedByKafkajs(entry.log as LogEntry['log'] & { error?: unknown; retryCount?: unknown })) logger.debug?.(line);
        else logger.error(line);
        return;
      case kafkajs.logLevel.WARN:
        logger.warn(line);
        return;
      case kafkajs.logLevel.INFO:
        logger.info(line);
        return;
      default:
        logger.debug?.(line);
    }
  };
}
