/**
 * The ingest's front door for the rest of the code base: decoders (JSON, and
 * Avro in the schema registry wire format), the registry connection and the
 * registration of Tally's Avro schemas. (processors/index.ts re-exports the
 * JSON decoder; the Avro names are here until it re-exports them too.)
 */
export { createIngestDecoder, type IngestDecoderOptions } from './ingest-decoder.js';
export { jsonEventDecoder, defaultMaxEventBytes, type EventDecoder, type DecodedValue, type DecodeFailureReason } from './event-decoder.js';
export { validateCloudEvent, type ValidatedEvent, type EventFailure } from './decode-event.js';
export { classifyEvent, type IngestOutcome, type IngestSettings } from './classify-event.js';
export { jsonOrAvroEventDecoder, wireFormatSchemaId, wireFormatHeaderBytes, type AvroEventDecoderOptions } from './avro-event-decoder.js';
export { createWriterSchemaCache, type WriterSchema, type WriterSchemaCache, type WriterSchemaCacheOptions } from './writer-schemas.js';
export { connectSchemaRegistry, registryErrorStatus, type RegistryConnection, type RegistryConnectionOptions } from './schema-registry-client.js';
export {
  checkTallySchemas,
  compatibilityLevels,
  registerTallySchemas,
  registrySchemaText,
  tallySchemaSubjects,
  type CompatibilityLevel,
  type RegisteredSchema,
  type TallySubject,
} from './registry-schemas.js';
