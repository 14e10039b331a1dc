import { describe, expect, it } from 'vitest';
import { TallyError } from '../../schemas/index.js';
import {
  decodeKey,
  decodeWindowKey,
  encodeKey,
  encodeWindowKey,
  keyCacheKey,
  prefixRange,
  windowCacheKey,
  windowKeyRange,
  windowStartOf,
} from '../../state/key-codec.js';

const utf8Order = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

const keys = ['', 'a', 'a\u0000', 'a\u0000b', 'a\u0001', 'a\u0001\u0000', 'a\u0002', 'ab', 'b', '\u0000', '\u0001', 'é', 'z', '日本', '😀', 'a😀', 'A', 'a b'];

describe('key codec', () => {
  it('round-trips every key, including keys with NUL and 0x01 bytes', () => {
    for (const key of keys) expect(decodeKey(encodeKey(key))).toBe(key);
  });

  it('orders encoded keys exactly as UTF-8 byte order of the keys', () => {
    const byEncoding = [...keys].sort((a, b) => Buffer.compare(encodeKey(a), encodeKey(b)));
    const byUtf8 = [...keys].sort(utf8Order);
    expect(byEncoding).toEqual(byUtf8);
  });

  it('sorts "a" before "a\\0" before "a\\u0001" before "ab"', () => {
    const encoded = ['ab', 'a\u0001', 'a\u0000', 'a'].map(encodeKey).sort(Buffer.compare).map((bytes) => decodeKey(bytes));
    expect(encoded).toEqual(['a', 'a\u0000', 'a\u0001', 'ab']);
  });

  it('escapes 0x00 as 01 01 and 0x01 as 01 02 and ends with a 00 terminator', () => {
    expect(encodeKey('a\u0000\u0001').toString('hex')).toBe('61010101' + '0200');
    expect(encodeKey('ab').toString('hex')).toBe('616200');
  });

  it('gives the cache key as the latin1 form of the same bytes', () => {
    for (const key of keys) expect(keyCacheKey(key)).toBe(encodeKey(key).toString('latin1'));
    expect(windowCacheKey('abc', 2 ** 40 + 5)).toBe(encodeWindowKey('abc', 2 ** 40 + 5).toString('latin1'));
    expect(windowCacheKey('日\u0000', 7)).toBe(encodeWindowKey('日\u0000', 7).toString('latin1'));
    // ASCII keys that need escaping (a meter store key holds a NUL) take the string path: same bytes.
    // One NUL and no 0x01 (joined around the NUL), at either end too; a NUL beside a 0x01; two NULs.
    const escaped = ['s\u0000{"route":"/a"}', '\u0000abc', 'abc\u0000', 'a\u0001b\u0000c', '\u0001\u0000\u0001', 'a\u0001\u0001b\u0000\u0000', '\u0000', 'a\u0000b\u0000c'];
    for (const key of escaped) {
      expect(keyCacheKey(key)).toBe(encodeKey(key).toString('latin1'));
      expect(windowCacheKey(key, 2 ** 33 + 9)).toBe(encodeWindowKey(key, 2 ** 33 + 9).toString('latin1'));
    }
  });

  it('rejects keys with a lone surrogate, which UTF-8 cannot represent', () => {
    expect(() => encodeKey('a\ud800')).toThrow(TallyError);
    expect(() => keyCacheKey('\udc00')).toThrow(/surrogate/);
  });

  it('round-trips window keys and reads the start from the last 8 bytes', () => {
    for (const key of keys) {
      for (const startMs of [0, 1, 59_999, 1_700_000_000_000, Number.MAX_SAFE_INTEGER]) {
        const bytes = encodeWindowKey(key, startMs);
        expect(windowStartOf(bytes)).toBe(startMs);
        expect(decodeWindowKey(bytes)).toEqual({ key, windowStartMs: startMs });
      }
    }
  });

  it('keeps all windows of one key contiguous and ordered by time', () => {
    const entries: [string, number][] = [];
    for (const key of ['a', 'a\u0000', 'ab', 'b']) for (const startMs of [300, 5, 2 ** 33, 0]) entries.push([key, startMs]);
    const sorted = entries
      .map(([key, startMs]) => encodeWindowKey(key, startMs))
      .sort(Buffer.compare)
      .map((bytes) => decodeWindowKey(bytes));
    const expected = ['a', 'a\u0000', 'ab', 'b'].flatMap((key) => [0, 5, 300, 2 ** 33].map((windowStartMs) => ({ key, windowStartMs })));
    expect(sorted).toEqual(expected);
  });

  it('rejects window starts that are negative, fractional or unsafe', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      expect(() => encodeWindowKey('k', bad)).toThrow(TallyError);
      expect(() => windowCacheKey('k', bad)).toThrow(/window start/);
    }
  });

  it('maps a string prefix to the byte range of exactly the keys that start with it', () => {
    for (const prefix of ['a', 'a\u0000', '日', '']) {
      const { gte, lt } = prefixRange(prefix);
      const inRange = keys.filter((key) => {
        const bytes = encodeKey(key);
        return (gte === undefined || Buffer.compare(bytes, gte) >= 0) && (lt === undefined || Buffer.compare(bytes, lt) < 0);
      });
      expect(inRange.sort()).toEqual(keys.filter((key) => key.startsWith(prefix)).sort());
    }
  });

  it('bounds one key\'s windows in [from, to] without touching its neighbours', () => {
    const { gte, lt } = windowKeyRange('a', 10, 20);
    const inside = (bytes: Buffer): boolean => Buffer.compare(bytes, gte) >= 0 && Buffer.compare(bytes, lt) < 0;
    expect(inside(encodeWindowKey('a', 10))).toBe(true);
    expect(inside(encodeWindowKey('a', 20))).toBe(true);
    expect(inside(encodeWindowKey('a', 21))).toBe(false);
    expect(inside(encodeWindowKey('a', 9))).toBe(false);
    expect(inside(encodeWindowKey('a\u0000', 15))).toBe(false);
    const open = windowKeyRange('a', 0, Number.MAX_SAFE_INTEGER);
    expect(Buffer.compare(encodeWindowKey('a', Number.MAX_SAFE_INTEGER), open.lt)).toBeLessThan(0);
    expect(Buffer.compare(encodeWindowKey('a\u0000', 0), open.lt)).toBeGreaterThanOrEqual(0);
  });
});
