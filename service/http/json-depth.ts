/**
 * How deep a JSON request body nests, checked before it is parsed. Parsing,
 * validating or re-serializing a document nested thousands of levels deep
 * recurses once per level and can overflow the stack (a RangeError, i.e. a
 * 500 and a lost request); such a body is refused with 400 instead. The
 * check is one pass over the bytes with a counter, so it cannot overflow
 * itself: brackets inside strings (escapes included) do not count.
 */
import { HttpError } from '../api-errors.js';

/** Deepest nesting of arrays and objects a JSON body may have (an array of events with nested `data` needs a handful). */
export const maxJsonDepth = 64;

const quote = 0x22;
const backslash = 0x5c;
const openers = new Set([0x5b, 0x7b]); // [ {
const closers = new Set([0x5d, 0x7d]); // ] }

/** Throws HttpError 400 `json-too-deep` when `body` nests arrays and objects more than `limit` levels deep. Does not check that it is JSON. */
export function checkJsonDepth(body: Uint8Array, limit = maxJsonDepth): void {
  let depth = 0;
  let inString = false;
  for (let at = 0; at < body.length; at++) {
    const byte = body[at] as number;
    if (inString) {
      if (byte === backslash) at++;
      else if (byte === quote) inString = false;
    } else if (byte === quote) {
      inString = true;
    } else if (openers.has(byte)) {
      if (++depth > limit) {
        throw new HttpError(400, 'json-too-deep', `the JSON body is nested too deep: more than ${limit} levels of arrays and objects (at byte ${at}); send events whose data nests at most ${limit - 2} levels`);
      }
    } else if (closers.has(byte)) {
      depth--;
    }
  }
}
