/**
 * Errors of the query engine and the JSON body the HTTP API and `tally replay
 * --query` print for them.
 */
import { TallyError } from '../../schemas/errors.js';

/** HTTP statuses a query error maps to: 400 for a bad query, 404 for an unknown meter. */
export type QueryErrorStatus = 400 | 404;

/** Stable codes of query errors (never reworded; clients may branch on them). */
export const queryErrorCodes = ['query-invalid', 'query-meter-unknown'] as const;
export type QueryErrorCode = (typeof queryErrorCodes)[number];

/**
 * A query that cannot be answered as asked. `status` is the HTTP status to
 * answer with; the message quotes the bad value and says what to send instead.
 */
export class QueryError extends TallyError {
  declare readonly code: QueryErrorCode;
  readonly status: QueryErrorStatus;

  constructor(code: QueryErrorCode, message: string, status: QueryErrorStatus = code === 'query-meter-unknown' ? 404 : 400) {
    super(code, message);
    this.status = status;
  }
}

/** The error body: `{ "error": { "code", "message" } }`. */
export interface QueryErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

/** Builds the JSON error body for a query error (or any `TallyError`). */
export function queryErrorBody(error: TallyError): QueryErrorBody {
  return { error: { code: error.code, message: error.message } };
}
