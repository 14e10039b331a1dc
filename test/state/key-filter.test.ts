/**
 * The Bloom filter of a segment's keys: never "absent" for a key added (as
 * bytes) when asked about as the latin1 string of those bytes, in any layer;
 * rarely "maybe" for one never added; a new layer, four times as large, when
 * one fills.
 */
import { describe, expect, it } from 'vitest';
import { KeyFilter } from '../../state/key-filter.js';

const key = (prefix: string, n: number): Buffer => Buffer.from(`["${prefix}","event-${n}"]`);
/** How a read asks: the latin1 string of the key's bytes (a cache key). */
const asked = (bytes: Buffer): string => bytes.toString('latin1');

describe('KeyFilter', () => {
  it('says "maybe" for every key added, across the layers it grows', () => {
    const filter = new KeyFilter();
    expect(filter.mightContain(asked(key('added', 0)))).toBe(false);
    const count = 400_000;
    for (let n = 0; n < count; n++) filter.add(key('added', n));
    // 64 Ki keys fill the first layer, 256 Ki the second: 400 000 need a third.
    expect(filter.layerCount).toBe(3);
    expect(filter.keyCount).toBe(count);
    let missed = 0;
    for (let n = 0; n < count; n++) if (!filter.mightContain(asked(key('added', n)))) missed++;
    expect(missed).toBe(0);
  });

  it('says "absent" for nearly every key never added (about 1 % false positives at 10 bits a key)', () => {
    const filter = new KeyFilter();
    for (let n = 0; n < 200_000; n++) filter.add(key('added', n));
    let maybe = 0;
    const probes = 100_000;
    for (let n = 0; n < probes; n++) if (filter.mightContain(asked(key('absent', n)))) maybe++;
    // Each of the three layers may answer "maybe": ~1.2 % each, blocked, when full.
    expect(maybe / probes).toBeLessThan(0.03);
  });

  it('tells keys apart by every byte, not only their start or length', () => {
    const filter = new KeyFilter();
    // Bytes past 0x7f too: a latin1 string carries each as one character.
    const base = Buffer.concat([Buffer.from('["source","0123456789abcdef"]'), Buffer.from([0x00, 0x80, 0xff, 0x01])]);
    filter.add(base);
    let maybe = 0;
    for (let at = 0; at < base.length; at++) {
      const changed = Buffer.from(base);
      changed[at] = (changed[at] as number) ^ 0x01;
      if (filter.mightContain(asked(changed))) maybe++;
    }
    expect(filter.mightContain(asked(base))).toBe(true);
    // One key in a filter sized for 64 Ki: a changed byte shares all six bits only by accident.
    expect(maybe).toBe(0);
  });

  it('counts the bytes of its layers, growing by four times the keys each', () => {
    const filter = new KeyFilter();
    const first = filter.byteSize;
    // 64 Ki keys × 10 bits, in 64-byte blocks.
    expect(first).toBe(Math.ceil((65_536 * 10) / 512) * 64);
    for (let n = 0; n <= 65_536; n++) filter.add(key('added', n));
    expect(filter.layerCount).toBe(2);
    expect(filter.byteSize).toBe(first + Math.ceil((4 * 65_536 * 10) / 512) * 64);
  });
});
