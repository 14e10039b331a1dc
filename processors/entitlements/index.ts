/**
 * Entitlements (docs/entitlements.md): usage allowances per billing period
 * with alerts, tracked beside rating on the usage keyed by customer.
 * `addEntitlementNodes` wires it onto the topology after rating.
 */
export { addEntitlementNodes, entitlementMeters, entitlementNodes } from './entitlement-topology.js';
export { alertKey, entitlementKey, entitlementStoreNames, entitlementTermsKey, type EntitlementState, type EntitlementTerms } from './entitlement-stores.js';
export { entitlementContent, thresholdsReached, type EntitlementStanding } from './entitlement-usage.js';
export { currentEntitlements, entitlementUsageView, type EntitlementsOfCustomer, type EntitlementUsageView } from './current-entitlements.js';
