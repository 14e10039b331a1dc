/**
 * RFC 7807 problem details, the error format of the OpenMeter-compatible
 * routes (`/api/v1/...`): `application/problem+json` with `type`, `title`,
 * `status`, `detail` and `instance`, plus Tally's stable `code` and any
 * details of the error as extension members. OpenMeter's SDKs compare the
 * content type exactly and show `detail` only for this type.
 */
import { STATUS_CODES } from 'node:http';
import type { RouteResponse } from './router.js';

export const problemContentType = 'application/problem+json';

/** Paths whose errors are problem details rather than Tally's `{ error: { code, message } }`. */
export const problemPathPrefix = '/api/';

export interface ProblemOptions {
  readonly status: number;
  /** Tally's stable error code, an extension member clients may branch on. */
  readonly code: string;
  /** What is wrong and what to send instead. */
  readonly detail: string;
  /** The request path the problem occurred on. */
  readonly instance: string;
  readonly extensions?: Readonly<Record<string, unknown>>;
  readonly headers?: Readonly<Record<string, string>>;
}

export function problemResponse(options: ProblemOptions): RouteResponse {
  const { status, code, detail, instance } = options;
  return {
    status,
    text: `${JSON.stringify({ type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, detail, instance, code, ...options.extensions })}\n`,
    contentType: problemContentType,
    ...(options.headers === undefined ? {} : { headers: options.headers }),
  };
}
