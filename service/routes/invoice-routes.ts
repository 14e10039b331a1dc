/**
 * Customer invoices: the public read, and the internal read other instances
 * make when the customer's partition lives here.
 */
import type { TallyConfig } from '../../schemas/index.js';
import type { Route } from '../http/router.js';
import { answerCustomerInvoices, customerInvoicesRead } from '../queries/customer-invoices.js';
import type { StoreReadContext } from '../queries/store-reads.js';
import { internalCustomerRoute } from './internal-customer-route.js';

export function invoiceRoutes(context: StoreReadContext, config: TallyConfig): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/v1/customers/{id}/invoices',
      handle: async (request) => ({ status: 200, json: await answerCustomerInvoices(context, config, request.params['id'] as string) }),
    },
    internalCustomerRoute(context, customerInvoicesRead),
  ];
}
