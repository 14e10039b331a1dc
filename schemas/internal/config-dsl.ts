/**
 * A tiny declarative schema language for `tally.yaml`: each key is declared once
 * with its type, default, constraint and description, and validation, defaults,
 * redaction and the generated reference derive from the declaration.
 *
 * Parsing is best-effort so that every problem is reported in one pass: a
 * record keeps the fields that parsed and leaves out the ones that did not, a
 * list keeps an `undefined` hole for an item that is not even the right shape
 * (so indices in paths stay right), and checks run on those partial values
 * (they must guard for absent fields and holes). The result is complete
 * and well-typed only when no problem was reported.
 */
import { didYouMean } from './did-you-mean.js';

export const INVALID: unique symbol = Symbol('invalid');
export type Parsed<T> = T | typeof INVALID;

export interface ParseContext {
  /** Directory that relative file paths in config resolve against. */
  readonly baseDir: string;
  report(path: string, message: string): void;
}

export interface NodeDoc {
  /** For people: "string", "duration (ISO-8601)", "list of meters". */
  readonly type: string;
  /** Constraint summary, e.g. "matches [A-Za-z0-9_-]+". */
  readonly constraint?: string;
}

export interface ConfigNode<T = unknown> {
  readonly doc: NodeDoc;
  /** Set on records: their declared keys. */
  readonly fields?: Readonly<Record<string, FieldSpec>>;
  /** Set on lists: the item node. */
  readonly item?: ConfigNode;
  /** Set on maps: the value node. */
  readonly values?: ConfigNode;
  /** Parses a present (non-null) raw value; reports problems on `ctx`; INVALID when unusable. */
  parse(raw: unknown, path: string, ctx: ParseContext): Parsed<T>;
  /** Printable form with secrets removed; absent means "print as is". */
  redact?(value: T): unknown;
}

/** Whether a key may appear, given its siblings; the strings finish "required …" / "not allowed …". */
export type Presence = 'optional' | { readonly required: string } | { readonly forbidden: string };

export interface FieldSpec<T = unknown> {
  readonly node: ConfigNode<T>;
  readonly description: string;
  /** Written as in YAML (`"PT1H"`, not ms); parsed by `node` when the key is absent. */
  readonly default?: unknown;
  /** Required unconditionally; the string finishes "required …", e.g. "(the meters to compute)". */
  readonly required?: string;
  /** Presence that depends on siblings declared (and parsed) earlier, keyed by YAML name. */
  readonly presence?: (siblings: Readonly<Record<string, unknown>>) => Presence;
  /** Presence rule for the reference, e.g. "required unless aggregation is COUNT". */
  readonly presenceDoc?: string;
  /** Key in the parsed config when it differs from the YAML key (durations: `size` → `sizeMs`). */
  readonly output?: string;
  /** Never printed: redacted by `redactValue`, never quoted in messages. */
  readonly secret?: boolean;
}

/** Keys of a parsed record that were given but invalid (and so are absent from it). */
const failedKeys = new WeakMap<object, ReadonlySet<string>>();

/** Whether `key` was given on this parsed record but failed to parse (checks skip it instead of calling it missing). */
export function failed(value: object, key: string): boolean {
  return failedKeys.get(value)?.has(key) ?? false;
}

export type Check = (value: Record<string, unknown>, path: string, ctx: ParseContext) => void;

/** `path.key`, or `path["odd key"]` when the key is not identifier-like. */
export function joinPath(path: string, key: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

/** A bad value quoted for a message: short, and never a whole document. */
export function quote(value: unknown): string {
  const text = value instanceof Date ? value.toISOString() : JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** What a raw YAML value is, for "must be X, got Y" messages that do not echo it. */
export function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a date (quote it)';
  if (typeof value === 'object' && value !== null) return 'a mapping';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  return `a ${typeof value}`;
}

function isMapping(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw) && !(raw instanceof Date) && !Buffer.isBuffer(raw);
}

function presenceOf(spec: FieldSpec, siblings: Readonly<Record<string, unknown>>): Presence {
  if (spec.presence !== undefined) return spec.presence(siblings);
  return spec.required !== undefined ? { required: spec.required } : 'optional';
}

function withReason(verb: string, reason: string): string {
  return reason === '' ? verb : `${verb} ${reason}`;
}

export interface RecordOptions {
  /** Runs on the (possibly partial) parsed record. */
  readonly check?: Check;
  /** Transforms the parsed record, e.g. to merge a file's contents in. */
  readonly finish?: (value: Record<string, unknown>, path: string, ctx: ParseContext) => Record<string, unknown>;
}

/** A mapping with declared keys; unknown keys are reported with "did you mean". */
export function record(type: string, fields: Readonly<Record<string, FieldSpec>>, options: RecordOptions = {}): ConfigNode<Record<string, unknown>> {
  const names = Object.keys(fields);
  return {
    doc: { type },
    fields,
    parse(raw, path, ctx) {
      if (!isMapping(raw)) {
        ctx.report(path, `must be a mapping of ${names.join(', ')}; got ${kindOf(raw)}`);
        return INVALID;
      }
      for (const key of Object.keys(raw)) {
        if (fields[key] !== undefined) continue;
        const hint = didYouMean(key, names);
        ctx.report(joinPath(path, key), hint === '' ? `unknown key; allowed here: ${names.join(', ')}` : `unknown key${hint}`);
      }
      const siblings: Record<string, unknown> = {};
      const value: Record<string, unknown> = {};
      const invalidKeys = new Set<string>();
      for (const [key, spec] of Object.entries(fields)) {
        const fieldPath = joinPath(path, key);
        const presence = presenceOf(spec, siblings);
        const given = raw[key] ?? undefined; // `key:` with nothing after it is absent
        let parsed: unknown = INVALID;
        if (given === undefined) {
          if (typeof presence === 'object' && 'required' in presence) ctx.report(fieldPath, withReason('required', presence.required));
          else if (presence === 'optional' && spec.default !== undefined) parsed = spec.node.parse(spec.default, fieldPath, ctx);
        } else if (typeof presence === 'object' && 'forbidden' in presence) {
          ctx.report(fieldPath, withReason('not allowed', presence.forbidden));
        } else {
          parsed = spec.node.parse(given, fieldPath, ctx);
        }
        if (parsed === INVALID) {
          if (given !== undefined) invalidKeys.add(spec.output ?? key);
          continue;
        }
        siblings[key] = parsed;
        value[spec.output ?? key] = parsed;
      }
      if (invalidKeys.size > 0) failedKeys.set(value, invalidKeys);
      options.check?.(value, path, ctx);
      return options.finish === undefined ? value : options.finish(value, path, ctx);
    },
  };
}

export interface ListOptions {
  /** Empty lists are refused with this fix, e.g. "list at least one meter". */
  readonly nonEmpty?: string;
  /** Items (or this field of items) must be unique; `label` names them in the message. */
  readonly unique?: { readonly field?: string; readonly label: string };
}

/** A YAML sequence of `item`. */
export function list<T>(type: string, item: ConfigNode<T>, options: ListOptions = {}): ConfigNode<T[]> {
  return {
    doc: { type, ...(options.nonEmpty === undefined ? {} : { constraint: 'non-empty' }) },
    item,
    parse(raw, path, ctx) {
      if (!Array.isArray(raw)) {
        ctx.report(path, `must be a list; got ${kindOf(raw)}`);
        return INVALID;
      }
      if (raw.length === 0 && options.nonEmpty !== undefined) ctx.report(path, `must not be empty; ${options.nonEmpty}`);
      const items: T[] = [];
      const seen = new Map<unknown, number>();
      raw.forEach((element: unknown, index) => {
        const itemPath = `${path}[${index}]`;
        const parsed = element === null || element === undefined ? INVALID : item.parse(element, itemPath, ctx);
        if (element === null || element === undefined) ctx.report(itemPath, 'is empty; remove the stray "-" or fill it in');
        if (parsed === INVALID) {
          items.push(undefined as T); // a hole; only seen by checks, since a problem was reported
          return;
        }
        items.push(parsed);
        const unique = options.unique;
        if (unique === undefined) return;
        const key = unique.field === undefined ? parsed : (parsed as Record<string, unknown>)[unique.field];
        if (key === undefined) return;
        const first = seen.get(key);
        if (first === undefined) seen.set(key, index);
        else {
          const where = unique.field === undefined ? `${path}[${first}]` : `${path}[${first}].${unique.field}`;
          ctx.report(unique.field === undefined ? itemPath : `${itemPath}.${unique.field}`, `duplicate ${unique.label} ${quote(key)} (also at ${where}); ${unique.label}s must be unique`);
        }
      });
      return items;
    },
  };
}

/** A mapping of user-chosen names (matching `keyPattern`) to `values`. */
export function map<T>(type: string, values: ConfigNode<T>, keyPattern: RegExp, keyHint: string): ConfigNode<Record<string, T>> {
  return {
    doc: { type, constraint: `names match ${keyPattern.source}` },
    values,
    parse(raw, path, ctx) {
      if (!isMapping(raw)) {
        ctx.report(path, `must be a mapping of name: value; got ${kindOf(raw)}`);
        return INVALID;
      }
      const value: Record<string, T> = {};
      for (const [key, element] of Object.entries(raw)) {
        const keyPath = joinPath(path, key);
        if (!keyPattern.test(key)) ctx.report(keyPath, `name ${quote(key)} is not allowed; ${keyHint}`);
        if (element === null || element === undefined) {
          ctx.report(keyPath, 'has no value');
          continue;
        }
        const parsed = values.parse(element, keyPath, ctx);
        if (parsed !== INVALID) value[key] = parsed;
      }
      return value;
    },
  };
}
