/**
 * The OpenMeter-compatible API under `/api/v1`, for applications written
 * against OpenMeter and its `@openmeter/sdk`: they change the base URL and
 * the token, nothing else. Errors are RFC 7807 problem details (the HTTP
 * server answers every `/api/` error that way). See docs/openmeter-compatibility.md.
 *
 * - `POST /api/v1/events`: a batch is accepted whole or not at all: 204 when
 *   every event is valid (all are written), else 400 naming the invalid ones
 *   and nothing is written — as OpenMeter refuses a batch it cannot decode.
 * - `GET /api/v1/meters`, `GET /api/v1/meters/{meterIdOrSlug}`: the config's meters.
 * - `GET|POST /api/v1/meters/{meterIdOrSlug}/query`: JSON, or CSV with `Accept: text/csv`.
 */
import { QueryError, type MeterQueryResult } from '../../processors/query/index.js';
import type { TallyConfig } from '../../schemas/index.js';
import { HttpError } from '../api-errors.js';
import type { Route, RouteRequest, RouteResponse } from '../http/router.js';
import { answerMeterQuery } from '../queries/meter-windows.js';
import type { StoreReadContext } from '../queries/store-reads.js';
import { createEventBatches, rejectionList, type EventsRouteOptions, type RejectedEvent } from '../routes/events-route.js';
import { findOpenMeterMeter, openMeterMeters, type OpenMeterMeter } from './openmeter-meters.js';
import { toMeterQuery } from './openmeter-query.js';
import { queryInputFromBody, queryInputFromParams, type OpenMeterQueryInput } from './openmeter-query-input.js';
import { toOpenMeterResult } from './openmeter-result.js';
import { acceptsCsv, csvResponse, meterQueryCsv } from './query-csv.js';

export interface OpenMeterRoutesOptions extends EventsRouteOptions {
  readonly context: StoreReadContext;
}

/** OpenMeter's clients compare the content type exactly: no charset parameter. */
function json(status: number, body: unknown): RouteResponse {
  return { status, text: `${JSON.stringify(body)}\n`, contentType: 'application/json' };
}

export function openMeterRoutes(options: OpenMeterRoutesOptions): Route[] {
  const { config } = options;
  const meters = openMeterMeters(config, new Date(options.wallClockMs()).toISOString());
  const meterOf = (request: RouteRequest): OpenMeterMeter => {
    const idOrSlug = request.params['meterIdOrSlug'] as string;
    const meter = findOpenMeterMeter(meters, idOrSlug);
    if (meter === undefined) throw new HttpError(404, 'meter-not-found', `no meter has the id or slug ${JSON.stringify(idOrSlug)}; the meters are ${meters.map((m) => m.slug).join(', ')}`);
    return meter;
  };
  const query = async (request: RouteRequest, readInput: () => Promise<OpenMeterQueryInput>): Promise<RouteResponse> => {
    const meter = meterOf(request);
    try {
      const input = await readInput();
      const translated = toMeterQuery(input, meter.slug, config, options.wallClockMs());
      const result = translated.matchesNothing ? emptyResult(translated.query) : await answerMeterQuery(options.context, config, translated.query);
      if (!acceptsCsv(request.headers.accept)) return json(200, toOpenMeterResult(result));
      const groupBy = translated.byCustomer ? [...translated.groupByOrder, 'customer_id'] : translated.groupByOrder;
      return csvResponse(meter.slug, meterQueryCsv(result, { subject: translated.query.groupBySubject, groupBy }));
    } catch (error) {
      if (error instanceof QueryError) throw new HttpError(error.status, error.code, error.message);
      throw error;
    }
  };
  return [
    eventsRoute(options),
    { method: 'GET', pattern: '/api/v1/meters', handle: async () => json(200, meters) },
    { method: 'GET', pattern: '/api/v1/meters/{meterIdOrSlug}', handle: async (request) => json(200, meterOf(request)) },
    { method: 'GET', pattern: '/api/v1/meters/{meterIdOrSlug}/query', handle: (request) => query(request, async () => queryInputFromParams(request.url.searchParams)) },
    { method: 'POST', pattern: '/api/v1/meters/{meterIdOrSlug}/query', handle: (request) => query(request, async () => queryInputFromBody(await jsonBody(request))) },
  ];
}

function eventsRoute(options: EventsRouteOptions): Route {
  const batches = createEventBatches(options);
  return {
    method: 'POST',
    pattern: '/api/v1/events',
    async handle(request) {
      const { total, accepted, rejected } = await batches.classify(request);
      if (rejected.length > 0) {
        batches.observe(0, rejected);
        throw new HttpError(400, 'events-invalid', refusal(total, rejected), rejectionList(rejected));
      }
      await batches.write(accepted);
      batches.observe(accepted.length, rejected);
      return { status: 204 };
    },
  };
}

/** `2 of 5 events are invalid, so none was written: event 1 (id "e2"): missing-field: …; …`. */
function refusal(total: number, rejected: readonly RejectedEvent[]): string {
  const shown = rejected.slice(0, 3).map((r) => `event ${r.index}${r.id === undefined ? '' : ` (id ${JSON.stringify(r.id)})`}: ${r.reason}: ${r.message}`);
  const more = rejected.length > shown.length ? `; and ${rejected.length - shown.length} more (see rejected)` : '';
  const what = total === 1 ? 'the event is invalid, so it was not written' : `${rejected.length} of ${total} events are invalid, so none was written`;
  return `${what}: ${shown.join('; ')}${more}. Fix or leave out the invalid events and send the batch again (events already sent are deduplicated by source and id)`;
}

async function jsonBody(request: RouteRequest): Promise<unknown> {
  const body = await request.body();
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new HttpError(400, 'invalid-json', `the body is not JSON (${(error as Error).message}): send the query as a JSON object`);
  }
}

function emptyResult(query: { meter: string; fromMs: number; toMs: number; windowSize: MeterQueryResult['windowSize'] | undefined; windowTimeZone: string }): MeterQueryResult {
  return { meter: query.meter, from: new Date(query.fromMs).toISOString(), to: new Date(query.toMs).toISOString(), windowSize: query.windowSize ?? null, windowTimeZone: query.windowTimeZone, data: [] };
}
