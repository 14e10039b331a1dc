/** Reads the body of a binary internal record written by {@link BinaryWriter}. */
import { StateStoreError } from '../errors.js';

export class BinaryReader {
  #bytes: Buffer = Buffer.alloc(0);
  #at = 0;

  /** Positions the reader after the two header bytes (marker and version). */
  reset(bytes: Buffer): this {
    this.#bytes = bytes;
    this.#at = 2;
    return this;
  }

  byte(): number {
    if (this.#at >= this.#bytes.length) this.#truncated();
    return this.#bytes[this.#at++] as number;
  }

  unsigned(): number {
    const bytes = this.#bytes;
    let result = 0;
    let scale = 1;
    for (;;) {
      if (this.#at >= bytes.length) this.#truncated();
      const next = bytes[this.#at++] as number;
      result += (next & 0x7f) * scale;
      if (next < 0x80) return result;
      scale *= 0x80;
    }
  }

  /** See {@link BinaryWriter.signed}: sign and 6 magnitude bits first, then the rest of the magnitude. */
  signed(): number {
    const first = this.byte();
    const low = (first >> 1) & 0x3f;
    const magnitude = first < 0x80 ? low : low + this.unsigned() * 0x40;
    return (first & 1) === 1 ? -magnitude - 1 : magnitude;
  }

  string(): string {
    const length = this.unsigned();
    const start = this.#at;
    const end = start + length;
    if (end > this.#bytes.length) this.#truncated();
    this.#at = end;
    return length === 0 ? '' : this.#bytes.toString('utf8', start, end);
  }

  /** See {@link BinaryWriter.stringList}. */
  stringList(): string[] {
    const values = new Array<string>(this.unsigned());
    const lengths = new Array<number>(values.length);
    for (let index = 0; index < values.length; index++) lengths[index] = this.unsigned();
    const joined = this.string();
    let at = 0;
    for (let index = 0; index < values.length; index++) {
      const end = at + (lengths[index] as number);
      values[index] = joined.slice(at, end);
      at = end;
    }
    if (at !== joined.length) throw new StateStoreError('internal-record-invalid', `a binary internal record lists strings of ${at} UTF-16 units in all, but holds ${joined.length}: it is corrupt`);
    return values;
  }

  /** Throws unless every byte was read: a body with bytes left over is not what its version says. */
  end(): void {
    if (this.#at !== this.#bytes.length) {
      throw new StateStoreError('internal-record-invalid', `a binary internal record of ${this.#bytes.length} bytes has ${this.#bytes.length - this.#at} bytes left over after its body: it is corrupt or was written by another format version`);
    }
  }

  #truncated(): never {
    throw new StateStoreError('internal-record-invalid', `a binary internal record of ${this.#bytes.length} bytes ends before its body does: it is truncated or corrupt`);
  }
}
