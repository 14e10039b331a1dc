/**
 * Customer entitlements: the public reads (all, or one by key), and the
 * internal read other instances make when the customer's partition lives
 * here.
 */
import type { TallyConfig } from '../../schemas/index.js';
import type { EntitlementFrontOptions } from '../http/http-front.js';
import type { Route } from '../http/router.js';
import { answerCustomerEntitlement, answerCustomerEntitlements, customerEntitlementsRead, customerEntitlementTermsRead } from '../queries/customer-entitlements.js';
import type { StoreReadContext } from '../queries/store-reads.js';
import { internalCustomerPattern, internalCustomerRoute } from './internal-customer-route.js';

const allPattern = '/v1/customers/{id}/entitlements';
const onePattern = '/v1/customers/{id}/entitlements/{key}';

/** What the HTTP front needs to answer the public reads from its replica (see http-front.ts). */
export function entitlementFront(config: TallyConfig, taskCount: () => number): EntitlementFrontOptions {
  const configured = config.customers.map(({ id, entitlements, timezone, billingAnchor }) => ({ id, timezone, billingAnchor, ...(entitlements === undefined ? {} : { entitlements }) }));
  const statesPattern = internalCustomerPattern(customerEntitlementsRead);
  const termsPattern = internalCustomerPattern(customerEntitlementTermsRead);
  return { allPattern, onePattern, statesPattern, termsPattern, configured, taskCount };
}

/** `wallClockMs`: the clock that says which billing period is current. */
export function entitlementRoutes(context: StoreReadContext, config: TallyConfig, wallClockMs: () => number): Route[] {
  return [
    {
      method: 'GET',
      pattern: allPattern,
      handle: async (request) => ({ status: 200, json: await answerCustomerEntitlements(context, config, request.params['id'] as string, wallClockMs()) }),
    },
    {
      method: 'GET',
      pattern: onePattern,
      handle: async (request) => ({ status: 200, json: await answerCustomerEntitlement(context, config, request.params['id'] as string, request.params['key'] as string, wallClockMs()) }),
    },
    internalCustomerRoute(context, customerEntitlementsRead),
    internalCustomerRoute(context, customerEntitlementTermsRead),
  ];
}
