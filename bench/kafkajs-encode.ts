/**
 * What kafkajs spends to encode one produced record, without a broker: a
 * transactional Produce request (v3, as the pipeline sends) of `--records`
 * records of `--value-bytes` each, over two partitions, encoded `--rounds`
 * times. Every record the pipeline writes (output, repartition, changelog)
 * pays this before it reaches the socket.
 *
 * Then the other way: the same record batches (40 of them, as one
 * partition's fetch response) decoded by kafkajs's fetch decoder.
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

type DecodeMessages = (decoder: unknown) => Promise<unknown[]>;
const Decoder = createRequire(import.meta.url)('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => unknown;
const decodeMessages = createRequire(import.meta.url)('kafkajs/src/protocol/requests/fetch/v4/decodeMessages') as DecodeMessages;

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

/** A fetch response's record set for one partition: 40 batches of `records` records, offsets in a row. */
async function recordSet(): Promise<Buffer> {
  const batches: Buffer[] = [];
  for (let b = 0; b < 40; b++) {
    const topicData = [{ topic: 't', partitions: [{ partition: 0, firstSequence: 0, messages }] }];
    const request = (await produceV3({ acks: -1, timeout: 30_000, transactionalId: 'bench', producerId: 1, producerEpoch: 0, topicData }).encode()) as { buffer: Buffer };
    // The record batch follows: transactional id (2 + 5), acks (2), timeout (4), topic count (4), topic (2 + 1), partition count (4), partition (4), record set size (4).
    const batch = Buffer.from(request.buffer.subarray(7 + 2 + 4 + 4 + 3 + 4 + 4 + 4));
    batch.writeBigInt64BE(BigInt(b * records), 0); // base offset
    batches.push(batch);
  }
  const size = Buffer.alloc(4);
  size.writeInt32BE(batches.reduce((n, b) => n + b.length, 0));
  return Buffer.concat([size, ...batches]);
}

async function decodeAll(input: Buffer, times: number): Promise<number> {
  const cpuBefore = process.cpuUsage();
  let decoded = 0;
  for (let i = 0; i < times; i++) decoded += (await decodeMessages(new Decoder(input))).length;
  const cpu = process.cpuUsage(cpuBefore);
  if (decoded !== times * 40 * records) throw new Error(`decoded ${decoded} records, expected ${times * 40 * records}`);
  return (cpu.user + cpu.system) / decoded;
}

const input = await recordSet();
await decodeAll(input, 5); // warm-up
const decodeUs = [await decodeAll(input, 40), await decodeAll(input, 40), await decodeAll(input, 40)];
console.log(`kafkajs fetch decoding, 40 batches × ${records} records: CPU ${decodeUs.map((us) => us.toFixed(2)).join(', ')} µs per record (3 runs)`);
