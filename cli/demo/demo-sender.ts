/**
 * Sends the demo's records to the input topic as producers would: an
 * idempotent producer keyed by subject, CloudEvents JSON, some records in
 * the Avro wire format (schema id from the registry), and malformed bytes
 * as they are (which the producer SDK would refuse to send).
 */
import type { Producer } from 'kafkajs';
import { connectSchemaRegistry, registerTallySchemas, type RegistryConnection } from '../../processors/ingest/index.js';
import { cloudEventToAvro } from '../../schemas/avro.js';
import type { TallyConfig } from '../../schemas/config-types.js';
import { kafkaClient } from '../../service/index.js';
import type { DemoRecord } from './demo-stream.js';

export interface DemoSender {
  /** Sends one batch, in order; resolves when every record is acknowledged. */
  send(records: readonly DemoRecord[]): Promise<void>;
  close(): Promise<void>;
}

interface AvroEncoder {
  readonly connection: RegistryConnection;
  readonly schemaId: number;
}

/** Registers Tally's schemas (idempotent) and returns the usage event schema's id. */
async function avroEncoder(config: TallyConfig): Promise<AvroEncoder | undefined> {
  const url = config.schemaRegistry?.url;
  if (url === undefined) return undefined;
  const connection = connectSchemaRegistry(url);
  const registered = await registerTallySchemas(connection, config.topics);
  const usage = registered.find((r) => r.schemaName === 'usageEvent');
  if (usage === undefined) throw new Error(`the registry at ${connection.url} did not return an id for the usage event schema`);
  return { connection, schemaId: usage.id };
}

async function valueOf(record: DemoRecord, avro: AvroEncoder | undefined): Promise<Buffer> {
  if (record.raw !== undefined) return record.raw;
  if (record.event === undefined) throw new Error('demo record without an event or bytes');
  if (record.avro && avro !== undefined) return avro.connection.client.encode(avro.schemaId, cloudEventToAvro(record.event));
  return Buffer.from(JSON.stringify(record.event), 'utf8');
}

export async function createDemoSender(config: TallyConfig): Promise<DemoSender> {
  const avro = await avroEncoder(config);
  const producer: Producer = kafkaClient(config, `${config.app.id}-demo-producer`).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  return {
    async send(records) {
      const messages = [];
      for (const record of records) messages.push({ key: record.key, value: await valueOf(record, avro) });
      await producer.send({ topic: config.topics.events, messages, acks: -1 });
    },
    close: () => producer.disconnect(),
  };
}
