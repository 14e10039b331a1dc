/**
 * Rating (docs/rating.md): customers and plans, monthly billing periods in the
 * customer's zone, the charge models, and the processors that turn meter
 * deltas into billing details. `addRatingNodes` wires it onto the metering
 * topology (see `buildMeteringTopology`).
 */
export { addRatingNodes, ratingNodes, usageByCustomerTopic, type RatingWiring } from './rating-topology.js';
export { compileRatingPlans, ratingEnabled, type RatingPlans } from './rating-plans.js';
export { createRatingCounters, type RatingCounters } from './rating-counters.js';
export { ratingWallClockCloseIntervalMs } from './rating-processor.js';
export { ratingStoreNames, type DetailState, type PeriodTerms, type RatingCloseState } from './rating-stores.js';
export {
  changeCustomerPlan,
  customersStoreName,
  customerTableRecords,
  planAtPeriodStart,
  type CustomerTableRecord,
} from './customers-table.js';
export { billingPeriodAt, nextBillingPeriod, type BillingPeriod } from './billing-period.js';
export { detailIdOf, detailKey, withBillingPeriod } from './billing-details.js';
export { invoiceKey, type InvoiceState } from './invoice-ledger.js';
export { subscriptionAt, subscriptionSpans, type SubscriptionSpan } from './subscriptions.js';
export { usageChange, type MeterDelta, type UsageChange } from './meter-delta.js';
export { applyUsageChange, initialPeriodUsage, usageQuantity, type ChargeUsage } from './charge-usage.js';
export { matchesFilter } from './charge-filter.js';
export { FlushRevisions } from './flush-revisions.js';
export { unratedDeadLetter } from './usage-join.js';
export { isTermsChange, type CustomerTerms, type CustomerTermsChange, type CustomerUsage, type UsageByCustomer } from './usage-by-customer.js';
export {
  intervalIndexAt,
  rateCharge,
  rateGraduated,
  ratePackage,
  ratePerUnit,
  rateTimeOfDay,
  rateVolume,
  roundLine,
  type ChargeQuantity,
  type RatedAmount,
} from './models/index.js';
