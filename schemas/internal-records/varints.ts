/**
 * Varints in place: unsigned (7 bits a byte, low first) and zig-zag signed,
 * the bytes of Avro's `long` and of Kafka's record varints and varlongs.
 * Exact for every safe integer: no step leaves the exact range of a double.
 */

/** Bytes of a non-negative safe integer as an unsigned varint. */
export function unsignedVarintSize(value: number): number {
  let size = 1;
  while (value > 0x7f) {
    value = Math.floor(value / 0x80);
    size++;
  }
  return size;
}

/** Writes a non-negative safe integer as an unsigned varint at `at`; returns the offset after it. */
export function writeUnsignedVarint(buffer: Buffer, at: number, value: number): number {
  while (value > 0x7fffffff) {
    buffer[at++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  while (value > 0x7f) {
    buffer[at++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  buffer[at++] = value;
  return at;
}

/** Bytes of a safe integer as a zig-zag varint. */
export function signedVarintSize(value: number): number {
  const magnitude = value < 0 ? -value - 1 : value;
  return magnitude < 0x40 ? 1 : 1 + unsignedVarintSize((magnitude - (magnitude % 0x40)) / 0x40);
}

/**
 * Writes a safe integer zig-zag encoded at `at` (small magnitudes take few
 * bytes either sign); returns the offset after it. The first byte holds the
 * sign and the low 6 bits of the magnitude (n, or -n-1 when negative), the
 * rest follows as an unsigned varint.
 */
export function writeSignedVarint(buffer: Buffer, at: number, value: number): number {
  const negative = value < 0;
  const magnitude = negative ? -value - 1 : value;
  const low = magnitude % 0x40;
  const high = (magnitude - low) / 0x40;
  buffer[at++] = (high > 0 ? 0x80 : 0) | (low << 1) | (negative ? 1 : 0);
  return high > 0 ? writeUnsignedVarint(buffer, at, high) : at;
}
