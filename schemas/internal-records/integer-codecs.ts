/** Codecs for values made of safe integers: one integer, or an object of integer fields in a fixed order. */
import type { BinaryCodec } from './internal-record-serde.js';

/** A safe integer (zig-zag varint). */
export function integerCodec(name: string): BinaryCodec<number> {
  return { name, version: 1, write: (writer, value) => writer.signed(value), read: (reader) => reader.signed() };
}

/** An object whose `fields` are all safe integers, written in the listed order; read back with those keys in that order. */
export function integerFieldsCodec<T extends Readonly<Record<K, number>>, K extends string>(name: string, fields: readonly K[]): BinaryCodec<T> {
  return {
    name,
    version: 1,
    write: (writer, value) => {
      for (const field of fields) writer.signed(value[field]);
    },
    read: (reader) => {
      const value: Record<string, number> = {};
      for (const field of fields) value[field] = reader.signed();
      return value as T;
    },
  };
}
