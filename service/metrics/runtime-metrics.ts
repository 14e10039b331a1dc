/**
 * Metrics of the Kafka runtime, fed as things happen through the
 * {@link AppObserver} callbacks: records consumed and produced per topic,
 * per-record processing time, commit time, rebalances, aborted transactions,
 * restored changelog records and records the runtime dead-lettered because
 * their processing failed.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { AppObserver } from '../../topology/kafka/index.js';

/**
 * Abort reasons the runtime reports today, created at 0 so a dashboard shows
 * "no aborts" rather than "no data". A reason not listed here still counts;
 * its series appears with its first abort.
 */
export const knownTransactionAbortReasons = ['closed dirty', 'commit on close failed'] as const;

/** Seconds; per-record processing is usually tens of microseconds to a few milliseconds. */
const processLatencyBuckets = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5];
/** Seconds; a commit round is a transaction (or offset commit) per task with work. */
const commitLatencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface RuntimeObserver {
  /** Pass to createApp's `observer`. */
  readonly observer: AppObserver;
  /** Records the app's runtime dead-lettered with reason `processing-failed` so far. */
  processingFailures(): number;
}

export function createRuntimeObserver(registry: Registry): RuntimeObserver {
  const registers = [registry];
  const consumed = new Counter({ name: 'tally_records_consumed_total', help: 'Records processed from each source topic (input and repartition topics).', labelNames: ['topic'], registers });
  const produced = new Counter({ name: 'tally_records_produced_total', help: 'Records made durable on each topic by commits (outputs, repartition topics and changelogs).', labelNames: ['topic'], registers });
  const processLatency = new Histogram({
    name: 'tally_process_latency_seconds',
    help: 'Time to process one record; each record of a fetched batch is observed at the batch mean.',
    buckets: processLatencyBuckets,
    registers,
  });
  const commitLatency = new Histogram({ name: 'tally_commit_latency_seconds', help: 'Time of one commit round over every task with work.', buckets: commitLatencyBuckets, registers });
  const rebalances = new Counter({ name: 'tally_rebalances_total', help: 'Assignments received from the consumer group.', registers });
  const aborts = new Counter({
    name: 'tally_transaction_aborts_total',
    help: "Transactions aborted or tasks' uncommitted work thrown away, by reason.",
    labelNames: ['reason'],
    registers,
  });
  for (const reason of knownTransactionAbortReasons) aborts.inc({ reason }, 0);
  const restored = new Counter({ name: 'tally_restored_records_total', help: 'Changelog records read to restore local state stores.', registers });
  // Exported with the pipeline's counters (tally_processing_failures_total, tally_dead_letters_total).
  let processingFailures = 0;

  const observer: AppObserver = {
    recordsProcessed(_taskId, topic, _partition, count, elapsedMs) {
      if (count <= 0) return;
      consumed.inc({ topic }, count);
      const perRecordSeconds = elapsedMs / 1000 / count;
      for (let i = 0; i < count; i++) processLatency.observe(perRecordSeconds);
    },
    recordsProduced(topic, count) {
      produced.inc({ topic }, count);
    },
    committed(_tasks, elapsedMs) {
      commitLatency.observe(elapsedMs / 1000);
    },
    transactionAborted(_taskId, reason) {
      aborts.inc({ reason });
    },
    rebalanced() {
      rebalances.inc();
    },
    storeRestored(_taskId, _storeName, records) {
      restored.inc(records);
    },
    processingFailed() {
      processingFailures++;
    },
  };
  return { observer, processingFailures: () => processingFailures };
}
