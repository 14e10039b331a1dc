/**
 * The metering and rating domain, written against the topology API: ingest,
 * dedupe, meter aggregation, rating, and the topology that wires them.
 */
export { buildMeteringTopology, eventsBySubjectTopic, meteringNodes, type MeteringTopologyOptions } from './metering-topology.js';
export { createMeteringCounters, totalDeadLetters, type MeteringCounters } from './metering-counters.js';
export { finalsPerWallClockStep, meterWallClockCloseIntervalMs } from './meter-aggregate.js';
export { compileMeterPlans, type MeterPlans } from './meter-plan.js';
export { meterCloseStateStoreName, type MeterCloseState } from './meter-close-state.js';
export { dedupeKey, dedupeStoreName } from './dedupe.js';
export { aggregationFor, needsNumericValue, type Aggregation, type MeterInput, type MeterWindowValue } from './aggregations/index.js';
export { canonicalGroupBy, meterRecordKey, meterStoreKey, meterStoreName, parseMeterStoreKey } from './meter-keys.js';
export { jsonEventDecoder, defaultMaxEventBytes, type EventDecoder, type DecodedValue } from './ingest/event-decoder.js';
export { parseNumericValue, canonicalDecimal, decimalPrecisionDigits, quotientSignificantDigits } from './decimal.js';
export { compareCodePoints } from './code-point-order.js';
export {
  billingPeriodAt,
  changeCustomerPlan,
  compileRatingPlans,
  createRatingCounters,
  customerTableRecords,
  customersStoreName,
  detailIdOf,
  detailKey,
  invoiceKey,
  nextBillingPeriod,
  planAtPeriodStart,
  rateCharge,
  ratingEnabled,
  ratingNodes,
  ratingStoreNames,
  ratingWallClockCloseIntervalMs,
  usageByCustomerTopic,
  type BillingPeriod,
  type CustomerTableRecord,
  type CustomerUsage,
  type DetailState,
  type InvoiceState,
  type MeterDelta,
  type RatedAmount,
  type PeriodTerms,
  type RatingCloseState,
  type RatingCounters,
  type RatingPlans,
} from './rating/index.js';
export {
  currentEntitlements,
  entitlementKey,
  entitlementStoreNames,
  entitlementTermsKey,
  entitlementUsageView,
  type EntitlementsOfCustomer,
  type EntitlementState,
  type EntitlementTerms,
  type EntitlementUsageView,
} from './entitlements/index.js';
export * from './ingest/index.js';
