/**
 * Interactive queries over a meter's window stores (docs/service.md, `GET /v1/meters/{slug}/query`):
 * parse and validate the query parameters, then answer from the stores of
 * every task. Shared by the HTTP API and `tally replay --query`.
 */
export { queryWindowSizes, type QueryWindowSize } from './calendar-buckets.js';
export { parseMeterQuery, type MeterQuery } from './parse-query.js';
export { QueryError, queryErrorBody, queryErrorCodes, type QueryErrorBody, type QueryErrorCode, type QueryErrorStatus } from './query-error.js';
export { runMeterQuery, type MeterQueryResult, type MeterQueryRow } from './run-query.js';
