/**
 * Order-preserving byte encodings of store keys.
 *
 * A string key becomes its UTF-8 bytes with 0x00 and 0x01 escaped
 * (0x00 → 0x01 0x01, 0x01 → 0x01 0x02) and a 0x00 terminator. Because every
 * escaped byte is >= 0x01 and the terminator is 0x00, unsigned byte order of
 * encodings equals UTF-8 byte order of the keys, a key sorts before every key
 * it is a proper prefix of, and the encoding is self-delimiting. A window key
 * appends the window start as 8 big-endian bytes, so all windows of one key
 * are contiguous and ordered by time.
 *
 * Cache keys are the same bytes held as a latin1 string: JavaScript string
 * comparison of latin1 strings is unsigned byte comparison, so the cache can
 * sort and bound keys without allocating buffers on the hot path.
 */
import { TallyError } from '../schemas/index.js';

/** Bytes appended to an encoded key in a window key. */
export const windowTimeBytes = 8;

const twoPow32 = 0x1_0000_0000;
const needsEscape = /[\u0000\u0001]/;
// ASCII without 0x00/0x01: UTF-8 bytes equal the UTF-16 code units, so the latin1 form is the key itself.
const plainAscii = /^[\u0002-\u007f]*$/;
// Any ASCII: the latin1 form is the key with 0x00 and 0x01 escaped as characters (meter store keys hold a NUL).
const ascii = /^[\u0000-\u007f]*$/;

/** The escaped form of an ASCII key, as characters: the same code units as `escapeBytes` gives bytes. */
function escapeAscii(key: string): string {
  // 0x01 first: the 0x01 that escaping 0x00 introduces must not be escaped again.
  return key.replaceAll('\u0001', '\u0001\u0002').replaceAll('\u0000', '\u0001\u0001');
}

type WellFormed = { isWellFormed(): boolean };

function checkWellFormed(key: string): void {
  // A lone surrogate would be encoded as U+FFFD and collide with other keys.
  if (!(key as unknown as WellFormed).isWellFormed()) {
    throw new TallyError('state-key-invalid', `store key ${JSON.stringify(key)} contains a lone UTF-16 surrogate; keys must be well-formed Unicode`);
  }
}

function utf8(key: string): Buffer {
  checkWellFormed(key);
  return Buffer.from(key, 'utf8');
}

/** Escaped UTF-8 bytes of `key` without the terminator (the encoding of a prefix). */
export function encodeKeyPrefix(key: string): Buffer {
  const raw = utf8(key);
  if (!needsEscape.test(key)) return raw;
  return escapeBytes(raw, 0);
}

function escapeBytes(raw: Buffer, extra: number): Buffer {
  let specials = 0;
  for (const byte of raw) if (byte < 2) specials++;
  const out = Buffer.allocUnsafe(raw.length + specials + extra);
  let at = 0;
  for (const byte of raw) {
    if (byte < 2) {
      out[at++] = 1;
      out[at++] = byte + 1;
    } else {
      out[at++] = byte;
    }
  }
  return out;
}

/** The order-preserving encoding of a string key, terminator included. */
export function encodeKey(key: string): Buffer {
  return encodeWithTail(key, 0);
}

function encodeWithTail(key: string, tailBytes: number): Buffer {
  if (!needsEscape.test(key)) {
    const length = Buffer.byteLength(key, 'utf8');
    checkWellFormed(key);
    const out = Buffer.allocUnsafe(length + 1 + tailBytes);
    out.write(key, 0, 'utf8');
    out[length] = 0;
    return out;
  }
  const escaped = escapeBytes(utf8(key), 1 + tailBytes);
  const length = escaped.length - 1 - tailBytes;
  escaped[length] = 0;
  return escaped;
}

/** Decodes `bytes[start, end)`, which must be one encoded key including its terminator. */
export function decodeKey(bytes: Buffer, start = 0, end = bytes.length): string {
  const last = end - 1;
  if (last < start || bytes[last] !== 0) {
    throw new TallyError('state-key-invalid', `encoded store key ${bytes.toString('hex')} has no terminator`);
  }
  const escapeAt = bytes.indexOf(1, start);
  if (escapeAt === -1 || escapeAt >= last) return bytes.toString('utf8', start, last);
  const raw = Buffer.allocUnsafe(last - start);
  let length = 0;
  for (let at = start; at < last; at++) {
    const byte = bytes[at] as number;
    if (byte === 1) {
      raw[length++] = (bytes[++at] as number) - 1;
    } else {
      raw[length++] = byte;
    }
  }
  return raw.toString('utf8', 0, length);
}

function checkWindowStart(windowStartMs: number): void {
  if (!Number.isSafeInteger(windowStartMs) || windowStartMs < 0) {
    throw new TallyError('state-window-start-invalid', `window start ${String(windowStartMs)} is not an integer number of milliseconds >= 0`);
  }
}

/** `encodeKey(key)` followed by the window start as 8 big-endian bytes. */
export function encodeWindowKey(key: string, windowStartMs: number): Buffer {
  checkWindowStart(windowStartMs);
  const out = encodeWithTail(key, windowTimeBytes);
  const at = out.length - windowTimeBytes;
  out.writeUInt32BE(Math.floor(windowStartMs / twoPow32), at);
  out.writeUInt32BE(windowStartMs % twoPow32, at + 4);
  return out;
}

/** The window start (ms) held in the last 8 bytes of a window key. */
export function windowStartOf(windowKey: Buffer): number {
  const at = windowKey.length - windowTimeBytes;
  if (at < 1) {
    throw new TallyError('state-key-invalid', `window key ${windowKey.toString('hex')} is shorter than ${windowTimeBytes + 1} bytes`);
  }
  return windowKey.readUInt32BE(at) * twoPow32 + windowKey.readUInt32BE(at + 4);
}

export interface DecodedWindowKey {
  readonly key: string;
  readonly windowStartMs: number;
}

export function decodeWindowKey(windowKey: Buffer): DecodedWindowKey {
  const windowStartMs = windowStartOf(windowKey);
  return { key: decodeKey(windowKey, 0, windowKey.length - windowTimeBytes), windowStartMs };
}

/**
 * The smallest byte string greater than every string starting with `prefix`,
 * or undefined when there is none (all 0xff).
 */
export function prefixEnd(prefix: Buffer): Buffer | undefined {
  for (let at = prefix.length - 1; at >= 0; at--) {
    if (prefix[at] !== 0xff) {
      const end = Buffer.from(prefix.subarray(0, at + 1));
      end[at] = (end[at] as number) + 1;
      return end;
    }
  }
  return undefined;
}

/** Byte bounds [gte, lt) of every encoded key that starts with the string `prefix`. */
export function prefixRange(prefix: string): { gte?: Buffer; lt?: Buffer } {
  if (prefix.length === 0) return {};
  const gte = encodeKeyPrefix(prefix);
  const lt = prefixEnd(gte);
  return lt === undefined ? { gte } : { gte, lt };
}

/** Byte bounds of one key's windows with start in [fromStartMs, toStartMs] (inclusive). */
export function windowKeyRange(key: string, fromStartMs: number, toStartMs: number): { gte: Buffer; lt: Buffer } {
  const gte = encodeWindowKey(key, fromStartMs);
  if (toStartMs < Number.MAX_SAFE_INTEGER) return { gte, lt: encodeWindowKey(key, toStartMs + 1) };
  return { gte, lt: prefixEnd(encodeKey(key)) as Buffer };
}

/** The cache form (latin1 string of the encoded bytes) of a key-value key. */
export function keyCacheKey(key: string): string {
  if (plainAscii.test(key)) return flatConcat(key, '\u0000');
  if (ascii.test(key)) return escapedConcat(key, '\u0000');
  return encodeKey(key).toString('latin1');
}

/** The cache form (latin1 string of the encoded bytes) of a window key. */
export function windowCacheKey(key: string, windowStartMs: number): string {
  const plain = plainAscii.test(key);
  if (!plain && !ascii.test(key)) return encodeWindowKey(key, windowStartMs).toString('latin1');
  checkWindowStart(windowStartMs);
  const high = Math.floor(windowStartMs / twoPow32);
  const low = windowStartMs % twoPow32;
  const tail = String.fromCharCode(
    0, high >>> 24, (high >>> 16) & 0xff, (high >>> 8) & 0xff, high & 0xff,
    low >>> 24, (low >>> 16) & 0xff, (low >>> 8) & 0xff, low & 0xff,
  );
  return plain ? flatConcat(key, tail) : escapedConcat(key, tail);
}

/**
 * `escapeAscii(key) + tail` as one flat string (see `flatConcat`). A key with
 * one NUL and no 0x01 (a meter store key: subject, NUL, group-by) is joined
 * around its NUL, at two thirds of the cost of escaping it first.
 */
function escapedConcat(key: string, tail: string): string {
  const nul = key.indexOf('\u0000');
  if (nul >= 0 && key.indexOf('\u0000', nul + 1) < 0 && !key.includes('\u0001')) return [key.slice(0, nul), '\u0001\u0001', key.slice(nul + 1), tail].join('');
  return flatConcat(escapeAscii(key), tail);
}

/**
 * `head + tail` as one flat string. Cache keys live as long as their entries, and V8 makes a
 * concatenation of 13 characters or more a cons string: a 32-byte node pointing at both parts,
 * flattened into a copy of them when first hashed, the node kept. `join` builds the flat string
 * at the same speed. (Keys with a byte outside plain ASCII are encoded to a flat string anyway.)
 */
function flatConcat(head: string, tail: string): string {
  return [head, tail].join('');
}
