/**
 * kafkajs's produce path, patched (the installed package) and as published
 * (`original/`, kafkajs 2.2.4's own sources), loaded side by side so the tests
 * can compare the bytes each one encodes.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface Encoder {
  readonly buffer: Buffer;
}

export interface Long {
  readonly value: bigint;
}

export interface ProduceRequestArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: Long | number;
  producerEpoch?: number;
  compression?: number;
  topicData: { topic: string; partitions: { partition: number | string; firstSequence?: number; messages: unknown[] }[] }[];
}

type ProduceRequest = (args: ProduceRequestArgs) => { apiKey: number; apiVersion: number; encode(): Promise<Encoder> };
type CreateRequest = (args: { correlationId: number; clientId: string | null; request: ReturnType<ProduceRequest> }) => Promise<Encoder>;
export type Crc32C = (buffer: Buffer, start?: number, end?: number) => number;
export type Partitioner = (args: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number | string;
export type GroupMessagesPerPartition = (args: { topic: string; partitionMetadata: unknown[]; messages: unknown[]; partitioner: Partitioner }) => Record<string, unknown[]>;

interface Implementation {
  readonly produceV3: ProduceRequest;
  readonly createRequest: CreateRequest;
  readonly crc32C: Crc32C;
  readonly groupMessagesPerPartition: GroupMessagesPerPartition;
}

export const patched: Implementation = {
  produceV3: require('kafkajs/src/protocol/requests/produce/v3/request') as ProduceRequest,
  createRequest: require('kafkajs/src/protocol/request') as CreateRequest,
  crc32C: require('kafkajs/src/protocol/recordBatch/crc32C') as Crc32C,
  groupMessagesPerPartition: require('kafkajs/src/producer/groupMessagesPerPartition') as GroupMessagesPerPartition,
};

export const original: Implementation = {
  produceV3: require('./original/produce-v3-request.cjs') as ProduceRequest,
  createRequest: require('./original/request.cjs') as CreateRequest,
  crc32C: require('./original/crc32C-index.cjs') as Crc32C,
  groupMessagesPerPartition: require('./original/group-messages-per-partition.cjs') as GroupMessagesPerPartition,
};

export const LongClass = require('kafkajs/src/utils/long') as { fromValue(v: number | string): Long };
export const CompressionTypes = (require('kafkajs/src/protocol/message/compression') as { Types: { None: number; GZIP: number } }).Types;

/** The whole request as sent on the socket (size, header, payload), by `implementation`. */
export async function encodeProduceRequest(implementation: Implementation, args: ProduceRequestArgs): Promise<Buffer> {
  const encoder = await implementation.createRequest({ correlationId: 7, clientId: 'tally-test', request: implementation.produceV3(args) });
  return Buffer.from(encoder.buffer);
}

export { seededRandom } from '../fixtures/seeded-random.js';
