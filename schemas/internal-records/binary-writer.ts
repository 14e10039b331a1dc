/**
 * Appends the body of a binary internal record to one reused scratch buffer,
 * then copies out exactly the bytes written. Integers are varints (zig-zag
 * for signed ones, as Avro's `long`), strings are a varint byte length and
 * UTF-8. Only safe integers are accepted: anything else throws
 * {@link NotEncodable}, and the serde writes that value as JSON instead.
 */

import { isWellFormedText } from '../event-rules.js';
import { writeSignedVarint, writeUnsignedVarint } from './varints.js';

/** Thrown by a codec for a value the binary form cannot hold exactly (the serde falls back to JSON). */
export class NotEncodable extends Error {
  constructor(what: string) {
    super(`not encodable in the binary record form: ${what}`);
  }
}

/** A string of fewer UTF-16 units than this has at most 126 UTF-8 bytes: its length is one varint byte. */
const oneByteLengthUnits = 43;

export class BinaryWriter {
  #buffer: Buffer;
  #at = 0;

  constructor(initialBytes = 4096) {
    this.#buffer = Buffer.allocUnsafe(initialBytes);
  }

  /** Starts a record: the 0x00 marker (never the first byte of JSON text), then the body's format version. */
  start(version: number): void {
    this.#at = 0;
    this.#buffer[0] = 0x00;
    this.#buffer[1] = version;
    this.#at = 2;
  }

  /** A copy of the bytes written since `start`. */
  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.#at);
    this.#buffer.copy(out, 0, 0, this.#at);
    return out;
  }

  byte(value: number): void {
    this.#ensure(1);
    this.#buffer[this.#at++] = value;
  }

  /** A non-negative safe integer as an unsigned varint (7 bits a byte, low first). */
  unsigned(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new NotEncodable(`${value} is not a non-negative safe integer`);
    this.#varint(value);
  }

  /**
   * A safe integer, zig-zag encoded (see varints.ts): the same bytes as
   * Avro's `long`.
   */
  signed(value: number): void {
    if (!Number.isSafeInteger(value)) throw new NotEncodable(`${value} is not a safe integer`);
    this.#ensure(9);
    this.#at = writeSignedVarint(this.#buffer, this.#at, value);
  }

  string(value: string): void {
    if (typeof value !== 'string') throw new NotEncodable(`${typeof value} where a string belongs`);
    const units = value.length;
    if (units < oneByteLengthUnits) {
      this.#ensure(1 + units * 3);
      const start = this.#at + 1;
      const written = this.#shortString(value, start);
      this.#buffer[this.#at] = written;
      this.#at = start + written;
      return;
    }
    if (!isWellFormedText(value)) throw new NotEncodable('a string with a lone surrogate (UTF-8 cannot hold it)');
    const bytes = Buffer.byteLength(value, 'utf8');
    this.#ensure(10 + bytes);
    this.#varint(bytes);
    this.#at += this.#buffer.write(value, this.#at, bytes, 'utf8');
  }

  /**
   * Strings as their count, each one's length in UTF-16 units, then their
   * concatenation as one string: one UTF-8 conversion for the whole list
   * instead of one per string (a UNIQUE_COUNT set may hold thousands).
   */
  stringList(values: readonly string[]): void {
    if (!Array.isArray(values)) throw new NotEncodable(`${typeof values} where a list of strings belongs`);
    this.unsigned(values.length);
    for (const value of values) {
      if (typeof value !== 'string') throw new NotEncodable(`${typeof value} in a list of strings`);
      this.unsigned(value.length);
    }
    this.string(values.join(''));
  }

  /** ASCII by hand (cheaper than a native call for short strings), anything else through Buffer. */
  #shortString(value: string, start: number): number {
    const buffer = this.#buffer;
    const units = value.length;
    for (let index = 0; index < units; index++) {
      const code = value.charCodeAt(index);
      if (code >= 0x80) {
        if (!isWellFormedText(value)) throw new NotEncodable('a string with a lone surrogate (UTF-8 cannot hold it)');
        return buffer.write(value, start, units * 3, 'utf8');
      }
      buffer[start + index] = code;
    }
    return units;
  }

  #varint(value: number): void {
    this.#ensure(8);
    this.#at = writeUnsignedVarint(this.#buffer, this.#at, value);
  }

  #ensure(bytes: number): void {
    if (this.#at + bytes <= this.#buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#buffer.length * 2, this.#at + bytes));
    this.#buffer.copy(grown, 0, 0, this.#at);
    this.#buffer = grown;
  }
}
