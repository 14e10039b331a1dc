/**
 * What kafkajs spends to encode one produced record, without a broker: a
 * transactional Produce request (v3, as the pipeline sends) of `--records`
 * records of `--value-bytes` each, over two partitions, encoded `--rounds`
 * times. Every record the pipeline writes (output, repartition, changelog)
 * pays this before it reaches the socket.
 *
 *   npm run bench:kafkajs-encode -- --records 256 --value-bytes 250
 */
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { commandLine, machineLine } from './bench-kit.js';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '256' },
    'value-bytes': { type: 'string', default: '250' },
    'key-bytes': { type: 'string', default: '40' },
    rounds: { type: 'string', default: '400' },
  },
});

type ProduceRequest = (request: Record<string, unknown>) => { encode(): Promise<unknown> };
const produceV3 = createRequire(import.meta.url)('kafkajs/src/protocol/requests/produce/v3/request.js') as ProduceRequest;

const records = Number(args.records);
const rounds = Number(args.rounds);
const key = Buffer.alloc(Number(args['key-bytes']), 107);
const value = Buffer.alloc(Number(args['value-bytes']), 118);
const messages = Array.from({ length: records }, (_, i) => ({ key, value, timestamp: String(1_700_000_000_000 + i), headers: {} }));

/** Wall and CPU (process.cpuUsage) µs per record; CPU is the steadier figure on a shared machine. */
async function encodeAll(): Promise<{ wall: number; cpu: number }> {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  for (let round = 0; round < rounds; round++) {
    const topicData = [{ topic: 't', partitions: [0, 1].map((partition) => ({ partition, firstSequence: 0, messages })) }];
    await produceV3({ acks: -1, timeout: 30_000, transactionalId: 'bench', producerId: 1, producerEpoch: 0, topicData }).encode();
  }
  const cpu = process.cpuUsage(cpuBefore);
  const count = rounds * 2 * records;
  return { wall: ((performance.now() - started) * 1000) / count, cpu: (cpu.user + cpu.system) / count };
}

console.log(`$ ${commandLine()}`);
console.log(`machine: ${machineLine()}`);
await encodeAll(); // warm-up
const perRecordUs = [await encodeAll(), await encodeAll(), await encodeAll()];
console.log(`kafkajs Produce v3 encoding, ${records} records × ${args['value-bytes']} B per partition: ${perRecordUs.map((us) => us.wall.toFixed(2)).join(', ')} µs per record (3 runs)`);
console.log(`  CPU: ${perRecordUs.map((us) => us.cpu.toFixed(2)).join(', ')} µs per record (process.cpuUsage)`);
