/**
 * Bearer-token authentication (`Authorization: Bearer <token>`). Tokens are
 * compared as SHA-256 digests with `timingSafeEqual`, so neither a token's
 * content nor its length leaks through timing; every configured token is
 * compared, with no early exit. Tokens never appear in messages or logs.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError } from '../api-errors.js';

const digest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** Returns a check that throws HttpError 401 unless the header carries a configured token. No tokens: everything passes. */
export function createBearerCheck(tokens: readonly string[]): (authorization: string | undefined) => void {
  const digests = tokens.map(digest);
  return (authorization) => {
    if (digests.length === 0) return;
    const presented = /^Bearer +(\S+) *$/i.exec(authorization ?? '')?.[1];
    if (presented === undefined) {
      const problem = authorization === undefined ? 'no Authorization header' : 'the Authorization header is not "Bearer <token>"';
      throw new HttpError(401, 'unauthorized', `${problem}: send Authorization: Bearer <token> with a token from http.tokens`, {}, { 'WWW-Authenticate': 'Bearer realm="tally"' });
    }
    const candidate = digest(presented);
    let matched = false;
    for (const known of digests) matched = timingSafeEqual(known, candidate) || matched;
    if (!matched) {
      throw new HttpError(401, 'unauthorized', 'the bearer token is not one of http.tokens: check the token you send', {}, { 'WWW-Authenticate': 'Bearer realm="tally", error="invalid_token"' });
    }
  };
}
