/**
 * A Bloom filter of byte keys (added as bytes, asked about as the latin1
 * string of their bytes), for point reads that mostly miss: a key it
 * says is absent is absent, and no LevelDB read is needed to know it. Dedupe
 * reads every new identity once per live bucket and finds nothing (most
 * events are not duplicates); a LevelDB miss costs 1.3–1.8 µs through the
 * native binding, this check a tenth of that.
 *
 * Blocked (each key's bits within one 64-byte block: one cache line read per
 * check), ~10 bits and 6 probes a key (~1 % false positives). The filter
 * grows as keys come: a full layer is followed by one four times as large,
 * and a check asks every layer (a key count that grows from 64 Ki to 16 Mi
 * takes five layers). Keys are never removed; a filter only ever says "maybe"
 * for a key added to it.
 */

/** 32-bit words per block: 16 × 32 = 512 bits, one cache line. */
const blockWords = 16;
const bitsPerKey = 10;
const probes = 6;
const firstCapacity = 1 << 16;
const growth = 4;

interface Layer {
  readonly words: Uint32Array;
  readonly blocks: number;
  readonly capacity: number;
  count: number;
}

function newLayer(capacity: number): Layer {
  const blocks = Math.ceil((capacity * bitsPerKey) / (blockWords * 32));
  return { words: new Uint32Array(blocks * blockWords), blocks, capacity, count: 0 };
}

/**
 * Two 32-bit hashes of a key (FNV-1a with two offsets and multipliers, then
 * a murmur3 finalizer each), left in `hashA` and `hashB`: no object per call.
 */
let hashA = 0;
let hashB = 0;
function hashBytes(key: Uint8Array): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < key.length; i++) {
    const byte = key[i] as number;
    a = Math.imul(a ^ byte, 0x01000193);
    b = Math.imul(b ^ byte, 0x5bd1e995);
  }
  finishHashes(a, b);
}

/** `hashBytes` of the bytes a latin1 string stands for (a cache key), without making them: the same two hashes. */
function hashLatin1(key: string): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < key.length; i++) {
    const byte = key.charCodeAt(i) & 0xff;
    a = Math.imul(a ^ byte, 0x01000193);
    b = Math.imul(b ^ byte, 0x5bd1e995);
  }
  finishHashes(a, b);
}

function finishHashes(a: number, b: number): void {
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  a = Math.imul(a, 0xc2b2ae35);
  a ^= a >>> 16;
  b ^= b >>> 15;
  b = Math.imul(b, 0x2c1b3c6d);
  b ^= b >>> 12;
  b = Math.imul(b, 0x297a2d39);
  b ^= b >>> 15;
  hashA = a >>> 0;
  hashB = b >>> 0;
}

export class KeyFilter {
  readonly #layers: Layer[] = [newLayer(firstCapacity)];
  #keys = 0;
  #bytes = (this.#layers[0] as Layer).words.byteLength;

  /** Keys added (with repeats). */
  get keyCount(): number {
    return this.#keys;
  }

  /** Layers so far (each four times the keys of the one before). */
  get layerCount(): number {
    return this.#layers.length;
  }

  /** Bytes its bit arrays take. */
  get byteSize(): number {
    return this.#bytes;
  }

  add(key: Uint8Array): void {
    let layer = this.#layers[this.#layers.length - 1] as Layer;
    if (layer.count >= layer.capacity) {
      layer = newLayer(layer.capacity * growth);
      this.#layers.push(layer);
      this.#bytes += layer.words.byteLength;
    }
    hashBytes(key);
    const base = blockOf(layer, hashA);
    const words = layer.words;
    let bit = hashB;
    const delta = ((hashB >>> 17) | (hashB << 15)) | 1;
    for (let probe = 0; probe < probes; probe++) {
      const at = bit & 511;
      words[base + (at >>> 5)] = (words[base + (at >>> 5)] as number) | (1 << (at & 31));
      bit = (bit + delta) | 0;
    }
    layer.count++;
    this.#keys++;
  }

  /**
   * False when the key was never added; true when it may have been. The key
   * comes as the latin1 string of its bytes (a store's cache key), which is
   * what a read has in hand: no bytes are made to ask.
   */
  mightContain(latin1Key: string): boolean {
    hashLatin1(latin1Key);
    const delta = ((hashB >>> 17) | (hashB << 15)) | 1;
    for (let l = this.#layers.length - 1; l >= 0; l--) {
      const layer = this.#layers[l] as Layer;
      if (layer.count === 0) continue;
      const base = blockOf(layer, hashA);
      const words = layer.words;
      let bit = hashB;
      let all = true;
      for (let probe = 0; probe < probes; probe++) {
        const at = bit & 511;
        if (((words[base + (at >>> 5)] as number) & (1 << (at & 31))) === 0) {
          all = false;
          break;
        }
        bit = (bit + delta) | 0;
      }
      if (all) return true;
    }
    return false;
  }
}

/** The first word of the key's block: the hash scaled onto the block count (no modulo bias, any count). */
function blockOf(layer: Layer, hash: number): number {
  return Math.floor((hash / 4294967296) * layer.blocks) * blockWords;
}
