/**
 * A small, safe JSONPath subset for meter `valueProperty` and `groupBy`: paths
 * that select at most one value inside a CloudEvent's `data`. Supported:
 *
 * - `$` — the root (the `data` object itself);
 * - `.name` — a member; the name starts with a letter, `_` or a non-ASCII
 *   character and continues with those, digits or `-`;
 * - `['name']` / `["name"]` — a member with any characters, with JSON-style
 *   escapes (`\\`, `\'`, `\"`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\uXXXX`);
 * - `[0]` — an array element; `[-1]` counts from the end (RFC 9535).
 *
 * Filters, wildcards, slices, unions, recursive descent and scripts are refused
 * at compile time: a meter must read one value, and config must never run code.
 */
import { TallyError } from './errors.js';

/** A member name (string) or an array index (number, negative from the end). */
export type JsonPathSegment = string | number;

export interface CompiledJsonPath {
  /** The path as written. */
  readonly path: string;
  readonly segments: readonly JsonPathSegment[];
  /** The selected value, or undefined when any step is absent. Reads own properties only. */
  get(data: unknown): unknown;
}

const SUPPORTED = "supported: $, .name, ['name'], [\"name\"] and [0] (no filters, wildcards, slices, recursive descent or scripts)";

const NAME_FIRST = /[A-Za-z_\u0080-\uffff]/;
const NAME_CHAR = /[A-Za-z0-9_\-\u0080-\uffff]/;
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\', "'": "'", '"': '"', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

function invalid(path: string, position: number, problem: string): TallyError {
  return new TallyError('json-path-invalid', `invalid JSONPath ${JSON.stringify(path)} at position ${position}: ${problem}; ${SUPPORTED}`);
}

/** What an unsupported construct at `position` is, for the message. */
function unsupported(path: string, position: number): string | undefined {
  const rest = path.slice(position);
  if (rest.startsWith('..')) return 'recursive descent (..) is not supported';
  if (rest.startsWith('.*') || rest.startsWith('[*')) return 'wildcards (*) are not supported';
  if (rest.startsWith('[?')) return 'filters ([?...]) are not supported';
  if (rest.startsWith('[(')) return 'script expressions ([(...)]) are not supported';
  if (/^\[\s*-?\d*\s*:/.test(rest)) return 'slices ([start:end]) are not supported';
  return undefined;
}

function skipSpaces(path: string, position: number): number {
  let at = position;
  while (path[at] === ' ' || path[at] === '\t') at += 1;
  return at;
}

function parseQuoted(path: string, start: number): { name: string; end: number } {
  const quote = path[start] as string;
  let name = '';
  let at = start + 1;
  while (at < path.length) {
    const char = path[at] as string;
    if (char === quote) return { name, end: at + 1 };
    if (char !== '\\') {
      name += char;
      at += 1;
      continue;
    }
    const escape = path[at + 1];
    if (escape === 'u') {
      const hex = path.slice(at + 2, at + 6);
      if (!/^[0-9A-Fa-f]{4}$/.test(hex)) throw invalid(path, at, 'a \\u escape needs four hex digits');
      name += String.fromCharCode(Number.parseInt(hex, 16));
      at += 6;
    } else if (escape !== undefined && SIMPLE_ESCAPES[escape] !== undefined) {
      name += SIMPLE_ESCAPES[escape];
      at += 2;
    } else {
      throw invalid(path, at, `unknown escape \\${escape ?? ''} in a quoted name`);
    }
  }
  throw invalid(path, start, `unterminated quoted name; close it with ${quote}]`);
}

function parseBracket(path: string, open: number): { segment: JsonPathSegment; end: number } {
  const reason = unsupported(path, open);
  if (reason !== undefined) throw invalid(path, open, reason);
  const at = skipSpaces(path, open + 1);
  let segment: JsonPathSegment;
  let after: number;
  const char = path[at];
  if (char === "'" || char === '"') {
    const quoted = parseQuoted(path, at);
    segment = quoted.name;
    after = quoted.end;
  } else {
    if (/^-?0[0-9]/.test(path.slice(at))) throw invalid(path, at, 'an index has no leading zeros, e.g. [1]');
    const match = /^-?(0|[1-9][0-9]*)/.exec(path.slice(at));
    if (match === null || match[0] === '-0') {
      throw invalid(path, at, "a bracket holds a quoted name ['name'] or an integer index [0]");
    }
    segment = Number(match[0]);
    if (!Number.isSafeInteger(segment)) throw invalid(path, at, 'the index is too large');
    after = at + match[0].length;
  }
  const close = skipSpaces(path, after);
  if (path[close] !== ']') {
    throw invalid(path, close, path[close] === ',' ? 'unions ([a,b]) are not supported' : 'expected ]');
  }
  return { segment, end: close + 1 };
}

function parseDotName(path: string, dot: number): { segment: string; end: number } {
  const reason = unsupported(path, dot);
  if (reason !== undefined) throw invalid(path, dot, reason);
  const start = dot + 1;
  if (!NAME_FIRST.test(path[start] ?? '')) {
    throw invalid(path, start, "a name after . starts with a letter or _; quote other names: $['name']");
  }
  let end = start + 1;
  while (end < path.length && NAME_CHAR.test(path[end] as string)) end += 1;
  return { segment: path.slice(start, end), end };
}

function parseSegments(path: string): JsonPathSegment[] {
  if (path.length === 0) throw invalid(path, 0, 'the path is empty; start it with $, e.g. $.tokens');
  if (path[0] !== '$') throw invalid(path, 0, `a path starts with $ (the event's data), e.g. $.${path.replace(/^\.+/, '')}`);
  const segments: JsonPathSegment[] = [];
  let at = 1;
  while (at < path.length) {
    const char = path[at];
    const step = char === '.' ? parseDotName(path, at) : char === '[' ? parseBracket(path, at) : undefined;
    if (step === undefined) {
      throw invalid(path, at, `unexpected ${JSON.stringify(char)}; each step is .name, ['name'] or [0]`);
    }
    segments.push(step.segment);
    at = step.end;
  }
  return segments;
}

function step(value: unknown, segment: JsonPathSegment): unknown {
  if (typeof segment === 'number') {
    if (!Array.isArray(value)) return undefined;
    const index = segment < 0 ? value.length + segment : segment;
    return index >= 0 && index < value.length ? value[index] : undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return Object.hasOwn(value, segment) ? (value as Record<string, unknown>)[segment] : undefined;
}

/**
 * Compiles `path` once into a getter over precomputed segments.
 * @throws TallyError `json-path-invalid`, quoting the path, the position and what is supported.
 */
export function compileJsonPath(path: string): CompiledJsonPath {
  const segments = Object.freeze(parseSegments(path));
  const get = (data: unknown): unknown => {
    let value = data;
    for (const segment of segments) {
      value = step(value, segment);
      if (value === undefined) return undefined;
    }
    return value;
  };
  return Object.freeze({ path, segments, get });
}
