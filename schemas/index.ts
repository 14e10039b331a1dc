export * from './errors.js';
export * from './serde.js';
export { internalRecordSerde, internalRecordFormatOf, isBinaryRecord, BinaryReader, BinaryWriter, NotEncodable, type BinaryCodec } from './internal-records/internal-record-serde.js';
export { integerCodec, integerFieldsCodec } from './internal-records/integer-codecs.js';
export { signedVarintSize, writeSignedVarint } from './internal-records/varints.js';
export * from './config-types.js';
export * from './records.js';
export { checkEventValue, eventLimits, isWellFormedText, utf8Bytes, type EventRuleViolation } from './event-rules.js';
export * from './billing-detail.js';
export * from './invoice.js';
export * from './customer-record.js';
export { parseConfig, loadConfig, redactConfig, describeConfigSchema, type ParseConfigOptions } from './config.js';
export { compileJsonPath, type CompiledJsonPath, type JsonPathSegment } from './json-path.js';
export { parseDurationMs, formatDurationMs } from './duration.js';
export { currencyMinorUnits, currencyCodes } from './currencies.js';
export {
  avroSchemaFiles,
  loadAvroSchema,
  usageEventAvro,
  meterRecordAvro,
  deadLetterRecordAvro,
  lateEventRecordAvro,
  billingDetailAvro,
  cloudEventFromAvro,
  cloudEventToAvro,
  type AvroCodec,
  type AvroSchemaName,
  type AvroUsageEvent,
} from './avro.js';
export { isIanaZone } from './time-zones.js';
export * from './entitlement.js';
