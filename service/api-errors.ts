/**
 * Errors the HTTP API answers with: a status, a stable code and a message
 * that says what is wrong and what to do, sent as
 * `{ "error": { "code", "message", …details } }`.
 */
import { TallyError } from '../schemas/index.js';

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string } & Readonly<Record<string, unknown>>;
}

export class HttpError extends TallyError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    /** Extra fields of the error object (e.g. the partitions that are unavailable). */
    readonly details: Readonly<Record<string, unknown>> = {},
    /** Extra response headers (e.g. `Retry-After`). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(code, message);
  }
}

export function errorBody(code: string, message: string, details: Readonly<Record<string, unknown>> = {}): ErrorBody {
  return { error: { code, message, ...details } };
}
