/**
 * The input decoder a config asks for: CloudEvents JSON, plus Avro in the
 * schema registry wire format when `schemaRegistry.url` is set.
 */
import { usageEventAvro } from '../../schemas/avro.js';
import type { SchemaRegistryConfig } from '../../schemas/config-types.js';
import { jsonOrAvroEventDecoder } from './avro-event-decoder.js';
import { jsonEventDecoder, type EventDecoder } from './event-decoder.js';
import { connectSchemaRegistry, type RegistryConnection } from './schema-registry-client.js';
import { createWriterSchemaCache, type WriterSchemaCacheOptions } from './writer-schemas.js';

export interface IngestDecoderOptions extends Partial<Omit<WriterSchemaCacheOptions, 'registry' | 'readerType'>> {
  /** Largest accepted event, bytes. Default 1 MiB. */
  readonly maxEventBytes?: number;
  /** Use this connection instead of connecting to `schemaRegistry.url`. */
  readonly registry?: RegistryConnection;
}

/** One decoder per process: its writer schema cache is shared by every task. */
export function createIngestDecoder(config: { readonly schemaRegistry?: SchemaRegistryConfig | undefined }, options: IngestDecoderOptions = {}): EventDecoder {
  const { maxEventBytes, registry, ...cacheOptions } = options;
  const url = config.schemaRegistry?.url;
  if (url === undefined && registry === undefined) return jsonEventDecoder(maxEventBytes);
  const schemas = createWriterSchemaCache({ ...cacheOptions, registry: registry ?? connectSchemaRegistry(url as string), readerType: usageEventAvro.type });
  return jsonOrAvroEventDecoder({ schemas, ...(maxEventBytes === undefined ? {} : { maxEventBytes }) });
}
