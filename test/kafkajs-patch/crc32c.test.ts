/**
 * The patched CRC-32C (slice-by-8, with an optional range) against published
 * check values and against kafkajs 2.2.4's byte-at-a-time implementation.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { original, patched } from './produce-internals.js';

describe('patched crc32C', () => {
  it('gives the published check values (CRC-32C check value; RFC 3720 B.4)', () => {
    const vectors: [Buffer, number][] = [
      [Buffer.alloc(0), 0],
      [Buffer.from('123456789'), 0xe3069283],
      [Buffer.alloc(32, 0), 0x8a9136aa],
      [Buffer.alloc(32, 0xff), 0x62a8ab43],
      [Buffer.from(Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e],
      [Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c],
    ];
    for (const [input, crc] of vectors) {
      expect(patched.crc32C(input)).toBe(crc);
      expect(original.crc32C(input)).toBe(crc);
    }
  });

  it('agrees with the original on every length from 0 to 300 and on 1 MB', () => {
    for (let length = 0; length <= 300; length++) {
      const input = randomBytes(length);
      expect(patched.crc32C(input)).toBe(original.crc32C(input));
    }
    const large = randomBytes(1 << 20);
    expect(patched.crc32C(large)).toBe(original.crc32C(large));
  });

  it('checksums a range of a buffer as the original checksums that slice, at any alignment', () => {
    const input = randomBytes(200);
    for (const [start, end] of [[0, 200], [1, 200], [3, 190], [40, 61], [7, 7], [13, 14]] as const) {
      expect(patched.crc32C(input, start, end)).toBe(original.crc32C(input.subarray(start, end)));
    }
    const offsetView = randomBytes(101).subarray(1);
    expect(patched.crc32C(offsetView)).toBe(original.crc32C(offsetView));
  });

  it('returns an unsigned 32-bit number', () => {
    const values = Array.from({ length: 200 }, () => patched.crc32C(randomBytes(16)));
    expect(values.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff)).toBe(true);
    expect(values.some((v) => v > 0x7fffffff)).toBe(true);
  });
});
