import { describe, expect, it } from 'vitest';
import { integerCodec, integerFieldsCodec, internalRecordSerde, isBinaryRecord, StateStoreError, type BinaryCodec } from '../../schemas/index.js';

const textCodec: BinaryCodec<{ readonly text: string; readonly n: number }> = {
  name: 'test text',
  version: 3,
  write: (writer, value) => {
    writer.string(value.text);
    writer.signed(value.n);
  },
  read: (reader) => {
    const text = reader.string();
    return { text, n: reader.signed() };
  },
};

describe('internal record serde', () => {
  const binary = internalRecordSerde(textCodec, 'binary');
  const json = internalRecordSerde(textCodec, 'json');

  it('writes 0x00, the layout version, then the body', () => {
    const bytes = binary.serialize({ text: 'ab', n: -1 });
    expect([...bytes]).toEqual([0x00, 3, 2, 0x61, 0x62, 1]);
    expect(isBinaryRecord(bytes)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['ascii', 'acme-prod'],
    ['unicode', 'cliente-ñandú-日本-🙂'],
    ['long unicode', 'é'.repeat(500)],
    ['a 42-unit string of 3-byte characters (length still one byte)', '日'.repeat(42)],
    ['a 43-unit string of 3-byte characters (two length bytes)', '日'.repeat(43)],
  ])('round-trips a %s string', (_name, text) => {
    const value = { text, n: 7 };
    expect(binary.deserialize(binary.serialize(value))).toEqual(value);
  });

  it.each([0, 1, -1, 63, 64, -64, -65, 2 ** 31, -(2 ** 31) - 1, 1_733_500_000_000, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER])('round-trips the integer %d', (n) => {
    expect(binary.deserialize(binary.serialize({ text: 'x', n }))).toEqual({ text: 'x', n });
  });

  it('writes JSON, byte for byte as JSON.stringify, in json mode', () => {
    const value = { text: 'ñ', n: 5 };
    expect(json.serialize(value).toString('utf8')).toBe(JSON.stringify(value));
  });

  it('reads legacy JSON in either mode', () => {
    const legacy = Buffer.from('{"text":"old","n":42}', 'utf8');
    expect(isBinaryRecord(legacy)).toBe(false);
    expect(binary.deserialize(legacy)).toEqual({ text: 'old', n: 42 });
    expect(json.deserialize(binary.serialize({ text: 'new', n: 1 }))).toEqual({ text: 'new', n: 1 });
  });

  it('falls back to JSON for a value the binary form cannot hold exactly', () => {
    for (const value of [{ text: 'x', n: 1.5 }, { text: 'x', n: 2 ** 60 }, { text: 'lone \ud800 surrogate', n: 1 }]) {
      const bytes = binary.serialize(value);
      expect(isBinaryRecord(bytes)).toBe(false);
      expect(binary.deserialize(bytes)).toEqual(value);
    }
  });

  it('refuses another layout version, saying which versions are involved', () => {
    const bytes = binary.serialize({ text: 'x', n: 1 });
    bytes[1] = 4;
    expect(() => binary.deserialize(bytes)).toThrow(StateStoreError);
    expect(() => binary.deserialize(bytes)).toThrow(/layout version 4; this Tally reads version 3/);
  });

  it('refuses a truncated body and one with bytes left over', () => {
    const bytes = binary.serialize({ text: 'abc', n: 1 });
    expect(() => binary.deserialize(bytes.subarray(0, bytes.length - 2))).toThrow(/truncated/);
    expect(() => binary.deserialize(Buffer.concat([bytes, Buffer.from([0])]))).toThrow(/left over/);
  });
});

describe('integer codecs', () => {
  it('round-trip an integer and an object of integer fields, keeping the field order', () => {
    const entry = internalRecordSerde(integerCodec('n'), 'binary');
    expect(entry.deserialize(entry.serialize(-1_733_500_000_000))).toBe(-1_733_500_000_000);
    const pair = internalRecordSerde(integerFieldsCodec<{ a: number; b: number }, 'a' | 'b'>('pair', ['a', 'b']), 'binary');
    const decoded = pair.deserialize(pair.serialize({ a: 0, b: -1 }));
    expect(decoded).toEqual({ a: 0, b: -1 });
    expect(Object.keys(decoded)).toEqual(['a', 'b']);
    expect(pair.deserialize(Buffer.from('{"a":3,"b":4}'))).toEqual({ a: 3, b: 4 });
  });
});
