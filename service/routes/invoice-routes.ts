/**
 * Customer invoices: the public read, and the internal read other instances
 * make when the customer's partition lives here.
 */
import type { TallyConfig } from '../../schemas/index.js';
import { TaskId } from '../../topology/index.js';
import { HttpError } from '../api-errors.js';
import type { Route } from '../http/router.js';
import { answerCustomerInvoices, readLocalInvoices } from '../queries/customer-invoices.js';
import type { StoreReadContext } from '../queries/store-reads.js';

export function invoiceRoutes(context: StoreReadContext, config: TallyConfig): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/v1/customers/{id}/invoices',
      handle: async (request) => ({ status: 200, json: await answerCustomerInvoices(context, config, request.params['id'] as string) }),
    },
    {
      method: 'GET',
      pattern: '/internal/v1/customers/{id}/invoices',
      async handle(request) {
        const tasks = request.url.searchParams.getAll('task');
        if (tasks.length === 0 || !tasks.every((t) => TaskId.isValid(t))) throw new HttpError(400, 'invalid-tasks', 'give task=<subtopology>_<partition> one or more times');
        return { status: 200, json: { invoices: await readLocalInvoices(context.app, tasks, request.params['id'] as string) } };
      },
    },
  ];
}
