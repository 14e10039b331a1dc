/**
 * The internal route another instance calls to read one customer's entries
 * of a store on the tasks that run here (`?task=<subtopology>_<partition>`,
 * one or more).
 */
import { TaskId } from '../../topology/index.js';
import { HttpError } from '../api-errors.js';
import type { Route } from '../http/router.js';
import { readLocalForCustomer, type CustomerStoreRead } from '../queries/customer-store-reads.js';
import type { StoreReadContext } from '../queries/store-reads.js';

/** The route's pattern: the read's internal path with an `{id}` parameter. */
export function internalCustomerPattern<V, T>(read: CustomerStoreRead<V, T>): string {
  return read.internalPath('{id}').replace(encodeURIComponent('{id}'), '{id}');
}

export function internalCustomerRoute<V, T>(context: StoreReadContext, read: CustomerStoreRead<V, T>): Route {
  return {
    method: 'GET',
    pattern: internalCustomerPattern(read),
    async handle(request) {
      const tasks = request.url.searchParams.getAll('task');
      if (tasks.length === 0 || !tasks.every((t) => TaskId.isValid(t))) throw new HttpError(400, 'invalid-tasks', 'give task=<subtopology>_<partition> one or more times');
      return { status: 200, json: { [read.internalField]: await readLocalForCustomer(context.app, tasks, request.params['id'] as string, read) } };
    },
  };
}
