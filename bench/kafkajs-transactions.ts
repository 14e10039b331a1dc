/**
 * What a transaction costs in time and requests with kafkajs (as patched
 * here), against a real broker (local unless TALLY_KAFKA_BROKERS is set): a
 * transactional producer runs `--transactions` transactions back to back, each
 * sending `--records` small records over `--partitions` partitions of one
 * topic and committing, as a task's commit does with its output. It reports
 * the time per transaction (mean and percentiles) and the AddPartitionsToTxn
 * and Metadata requests per transaction, counted from kafkajs's request
 * events: the first send after a commit meets CONCURRENT_TRANSACTIONS while
 * the broker still writes the commit's markers, and what the producer does
 * then is most of a short transaction's time.
 *
 *   npm run bench:kafkajs-transactions -- --transactions 300 [--records 16] [--partitions 4]
 */
import { parseArgs } from 'node:util';
import { createProducer } from '../topology/kafka/kafka-io.js';
import { commandLine, connectBroker, createTopics, machineLine } from './bench-kit.js';

const { values: args } = parseArgs({
  options: {
    transactions: { type: 'string', default: '300' },
    records: { type: 'string', default: '16' },
    partitions: { type: 'string', default: '4' },
  },
});

const transactions = Number(args.transactions);
const records = Number(args.records);
const partitions = Number(args.partitions);

function percentile(sorted: readonly number[], share: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))] as number;
}

console.log(`$ ${commandLine()}`);
console.log(`machine: ${machineLine()}`);
const broker = await connectBroker();
try {
  const topic = `bench-transactions-${Date.now().toString(36)}`;
  await createTopics(broker.admin, { [topic]: partitions });
  // Tally's own transactional producer, as each task has one.
  const producer = createProducer(broker.kafka, { transactionalId: `${topic}-producer` });
  const requests = new Map<string, number>();
  producer.on(producer.events.REQUEST, ({ payload }) => requests.set(payload.apiName, (requests.get(payload.apiName) ?? 0) + 1));
  await producer.connect();
  const messages = Array.from({ length: records }, (_, i) => ({ key: `key-${i}`, value: `{"n":${i}}`, partition: i % partitions }));
  const run = async (count: number): Promise<number[]> => {
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      const transaction = await producer.transaction();
      await transaction.send({ topic, messages, acks: -1 });
      await transaction.commit();
      times.push(performance.now() - started);
    }
    return times;
  };
  // Warm-up: the first transactions pay for the producer id, connections and compilation.
  await run(20);
  requests.clear();
  const times = (await run(transactions)).sort((a, b) => a - b);
  await producer.disconnect();
  const mean = times.reduce((sum, t) => sum + t, 0) / times.length;
  const perTransaction = (api: string): string => ((requests.get(api) ?? 0) / transactions).toFixed(2);
  console.log(`${transactions} transactions of ${records} records over ${partitions} partitions, one after another:`);
  console.log(`  ms per transaction: mean ${mean.toFixed(1)}, p50 ${percentile(times, 0.5).toFixed(1)}, p90 ${percentile(times, 0.9).toFixed(1)}, p99 ${percentile(times, 0.99).toFixed(1)}`);
  console.log(`  requests per transaction: AddPartitionsToTxn ${perTransaction('AddPartitionsToTxn')}, Metadata ${perTransaction('Metadata')}, Produce ${perTransaction('Produce')}, EndTxn ${perTransaction('EndTxn')}`);
  console.log(`machine after: ${machineLine()}`);
} finally {
  await broker.stop();
}
