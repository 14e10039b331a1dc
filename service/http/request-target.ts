/**
 * The request target (`GET <target> HTTP/1.1`) as a URL, or 400. Node's
 * parser passes on whatever the client wrote there; the API takes only a
 * path that starts with one `/` (with an optional query), or the same in
 * absolute form (`http://host/path?query`), with valid percent-encoding.
 * Anything else — `//x`, `*`, `\`, `/%`, `http://[::1` — is the client's
 * mistake, answered 400 and never logged as a failure of the service.
 */
import { HttpError } from '../api-errors.js';

const base = 'http://tally.invalid';

function invalidTarget(target: string, why: string): HttpError {
  const shown = target.length > 200 ? `${JSON.stringify(target.slice(0, 200))}…` : JSON.stringify(target);
  return new HttpError(400, 'invalid-request-target', `the request target ${shown} ${why}: send a path such as /v1/events`);
}

export function parseRequestTarget(target: string): URL {
  let pathAndQuery = target;
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
    if (!/^https?:\/\//i.test(target)) throw invalidTarget(target, 'is neither a path nor an http URL');
    try {
      const absolute = new URL(target);
      pathAndQuery = `${absolute.pathname}${absolute.search}`;
    } catch {
      throw invalidTarget(target, 'is not a valid URL');
    }
  }
  if (!pathAndQuery.startsWith('/')) throw invalidTarget(target, 'does not start with /');
  if (pathAndQuery.startsWith('//')) throw invalidTarget(target, 'starts with //, which reads as a host, not a path');
  if (pathAndQuery.includes('\\')) throw invalidTarget(target, 'holds a backslash');
  const url = new URL(`${base}${pathAndQuery}`);
  try {
    decodeURIComponent(url.pathname);
  } catch {
    throw invalidTarget(target, 'has a % that is not followed by two hex digits');
  }
  return url;
}
