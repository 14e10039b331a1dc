/**
 * The read side of the API: meter queries, customer billing, and the
 * internal reads other instances make when they route a query here.
 */
import { meterStoreName } from '../../processors/index.js';
import { parseMeterQuery, QueryError, queryErrorBody } from '../../processors/query/index.js';
import type { TallyConfig } from '../../schemas/index.js';
import { TaskId } from '../../topology/index.js';
import { HttpError } from '../api-errors.js';
import type { Route, RouteRequest } from '../http/router.js';
import { answerCustomerBilling, customerDetailsRead } from '../queries/customer-billing.js';
import { internalCustomerRoute } from './internal-customer-route.js';
import { answerMeterQuery, readLocalWindows } from '../queries/meter-windows.js';
import type { StoreReadContext } from '../queries/store-reads.js';
import { acceptsCsv, csvResponse, meterQueryCsv } from '../openmeter/query-csv.js';

export function queryRoutes(context: StoreReadContext, config: TallyConfig): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/v1/meters/{slug}/query',
      async handle(request) {
        try {
          const query = parseMeterQuery(request.url.searchParams, config, request.params['slug']);
          const result = await answerMeterQuery(context, config, query);
          if (!acceptsCsv(request.headers.accept)) return { status: 200, json: result };
          const groupBy = [...new Set(request.url.searchParams.getAll('groupBy').filter((key) => key !== 'subject'))];
          return csvResponse(query.meter, meterQueryCsv(result, { subject: query.groupBySubject, groupBy }));
        } catch (error) {
          // The same body `tally replay --query` prints.
          if (error instanceof QueryError) return { status: error.status, json: queryErrorBody(error) };
          throw error;
        }
      },
    },
    {
      method: 'GET',
      pattern: '/v1/customers/{id}/billing',
      handle: async (request) => ({ status: 200, json: await answerCustomerBilling(context, config, request.params['id'] as string) }),
    },
    {
      method: 'GET',
      pattern: '/internal/v1/meters/{slug}/windows',
      async handle(request) {
        const slug = request.params['slug'] as string;
        if (!config.meters.some((m) => m.slug === slug)) throw new HttpError(404, 'query-meter-unknown', `no meter ${JSON.stringify(slug)} is configured here: do all instances run the same config?`);
        const params = request.url.searchParams;
        const entries = await readLocalWindows(context.app, {
          storeName: meterStoreName(slug),
          taskIds: taskIdsOf(request),
          fromStartMs: epochMsParam(params, 'from'),
          toStartMs: epochMsParam(params, 'to'),
          subjects: params.getAll('subject'),
        });
        return { status: 200, json: { entries } };
      },
    },
    internalCustomerRoute(context, customerDetailsRead),
  ];
}

function taskIdsOf(request: RouteRequest): string[] {
  const tasks = request.url.searchParams.getAll('task');
  const bad = tasks.find((t) => !TaskId.isValid(t));
  if (tasks.length === 0 || bad !== undefined) throw new HttpError(400, 'invalid-tasks', `task ${JSON.stringify(bad ?? '')} is not a task id: give task=<subtopology>_<partition> one or more times`);
  return tasks;
}

function epochMsParam(params: URLSearchParams, name: string): number {
  const text = params.get(name) ?? '';
  if (!/^\d+$/.test(text)) throw new HttpError(400, 'invalid-range', `${name} ${JSON.stringify(text)} is not a window start in epoch ms`);
  return Number(text);
}
