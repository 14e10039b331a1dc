import kafkajs from 'kafkajs';
const { Kafka, logLevel } = kafkajs;
const kafka = new Kafka({ brokers: [process.argv[2]], logLevel: logLevel.NOTHING });
const admin = kafka.admin(); await admin.connect();
await admin.createTopics({ topics: [{ topic: 'txn-t', numPartitions: 4 }] }).catch(() => {});
await admin.disconnect();
const producer = kafka.producer({ transactionalId: 'tx-bench-' + process.pid, idempotent: true, maxInFlightRequests: 1, retry: { initialRetryTime: 20, retries: 100 } });
await producer.connect();
let metadataReqs = 0, addParts = 0;
producer.on(producer.events.REQUEST, (e) => { if (e.payload.apiName === 'Metadata') metadataReqs++; if (e.payload.apiName === 'AddPartitionsToTxn') addParts++; });
const times = [];
for (let i = 0; i < 200; i++) {
  const t = performance.now();
  const txn = await producer.transaction();
  await txn.send({ topic: 'txn-t', messages: [{ key: 'k' + i, value: 'v' }] });
  await txn.commit();
  times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
const mean = times.reduce((a, b) => a + b) / times.length;
console.log(`200 txns: mean ${mean.toFixed(1)} ms, p50 ${times[100].toFixed(1)}, p90 ${times[180].toFixed(1)}; AddPartitionsToTxn ${addParts}, Metadata ${metadataReqs}`);
await producer.disconnect();
