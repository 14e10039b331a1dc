/**
 * Customer entitlements: the public reads (all, or one by key), and the
 * internal read other instances make when the customer's partition lives
 * here.
 */
import type { TallyConfig } from '../../schemas/index.js';
import type { Route } from '../http/router.js';
import { answerCustomerEntitlement, answerCustomerEntitlements, customerEntitlementsRead, customerEntitlementTermsRead } from '../queries/customer-entitlements.js';
import type { StoreReadContext } from '../queries/store-reads.js';
import { internalCustomerRoute } from './internal-customer-route.js';

/** `wallClockMs`: the clock that says which billing period is current. */
export function entitlementRoutes(context: StoreReadContext, config: TallyConfig, wallClockMs: () => number): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/v1/customers/{id}/entitlements',
      handle: async (request) => ({ status: 200, json: await answerCustomerEntitlements(context, config, request.params['id'] as string, wallClockMs()) }),
    },
    {
      method: 'GET',
      pattern: '/v1/customers/{id}/entitlements/{key}',
      handle: async (request) => ({ status: 200, json: await answerCustomerEntitlement(context, config, request.params['id'] as string, request.params['key'] as string, wallClockMs()) }),
    },
    internalCustomerRoute(context, customerEntitlementsRead),
    internalCustomerRoute(context, customerEntitlementTermsRead),
  ];
}
