/**
 * Reads a file as lines of raw bytes (split on "\n", a trailing "\r"
 * dropped), streaming, so large inputs never sit in memory whole and bytes
 * that are not valid UTF-8 reach the decoder untouched. Empty lines at the
 * very end of the file are not records (an editor's trailing newlines); an
 * empty line followed by more input is one (a malformed record).
 */
import { createReadStream } from 'node:fs';

const newline = 0x0a;
const carriageReturn = 0x0d;

function withoutCarriageReturn(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === carriageReturn ? line.subarray(0, line.length - 1) : line;
}

export async function* readLines(path: string): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let emptyRun = 0;
  function* emit(line: Buffer): Generator<Buffer> {
    if (line.length === 0) {
      emptyRun++;
      return;
    }
    for (; emptyRun > 0; emptyRun--) yield Buffer.alloc(0);
    yield line;
  }
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let at = chunk.indexOf(newline); at !== -1; at = chunk.indexOf(newline, start)) {
      const piece = chunk.subarray(start, at);
      const line = pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
      pending = [];
      yield* emit(withoutCarriageReturn(line));
      start = at + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  }
  if (pending.length > 0) yield* emit(withoutCarriageReturn(Buffer.concat(pending)));
}
