/**
 * Walks a declared schema: renders it as a markdown reference, and redacts a
 * parsed value for printing.
 */
import type { ConfigNode, FieldSpec } from './config-dsl.js';

const REDACTED = '[redacted]';

/** A printable deep copy of `value` with every secret field replaced by `[redacted]`. */
export function redactValue(node: ConfigNode, value: unknown): unknown {
  if (value === undefined || value === null) return value;
  if (node.redact !== undefined) return node.redact(value);
  if (node.fields !== undefined && typeof value === 'object') {
    const source = value as Record<string, unknown>;
    const copy: Record<string, unknown> = {};
    const declared = new Map(Object.entries(node.fields).map(([key, spec]) => [spec.output ?? key, spec] as const));
    for (const [key, element] of Object.entries(source)) {
      const spec = declared.get(key);
      if (spec === undefined) copy[key] = element;
      else if (spec.secret === true) copy[key] = Array.isArray(element) ? element.map(() => REDACTED) : REDACTED;
      else copy[key] = redactValue(spec.node, element);
    }
    return copy;
  }
  const { item, values } = node;
  if (item !== undefined && Array.isArray(value)) return value.map((element: unknown) => redactValue(item, element));
  if (values !== undefined && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, element]) => [key, redactValue(values, element)]));
  }
  return value;
}

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function renderDefault(spec: FieldSpec): string {
  if (spec.required !== undefined) return 'required';
  if (spec.default === undefined) return '—';
  if (typeof spec.default === 'object' && spec.default !== null && !Array.isArray(spec.default) && Object.keys(spec.default).length === 0) return '—';
  return `\`${typeof spec.default === 'string' ? spec.default : JSON.stringify(spec.default)}\``;
}

function row(path: string, spec: FieldSpec): string {
  const { type, constraint } = spec.node.doc;
  const details = [spec.description, spec.presenceDoc, constraint === undefined ? undefined : `Constraint: ${constraint}.`, spec.secret === true ? 'Secret: never printed.' : undefined];
  return `| \`${cell(path)}\` | ${cell(type)} | ${cell(renderDefault(spec))} | ${cell(details.filter((part) => part !== undefined).join(' '))} |`;
}

/** One table row per key under `node`, depth first, with paths like `plans[].charges[].tiers[].upTo`. */
export function describeRows(node: ConfigNode, path: string): string[] {
  const rows: string[] = [];
  const record = node.item?.fields !== undefined ? node.item : node;
  const prefix = node.item?.fields !== undefined ? `${path}[]` : path;
  for (const [key, spec] of Object.entries(record.fields ?? {})) {
    const keyPath = prefix === '' ? key : `${prefix}.${key}`;
    rows.push(row(keyPath, spec));
    rows.push(...describeRows(spec.node, keyPath));
  }
  return rows;
}

/** The markdown reference for a root record: a section per top-level key. */
export function describeRoot(title: string, root: ConfigNode, rules: readonly { description: string }[]): string {
  const lines = [`# ${title}`, '', 'Generated from the declared config schema. Durations are ISO-8601; money and prices are decimal strings.', ''];
  for (const [key, spec] of Object.entries(root.fields ?? {})) {
    lines.push(`## ${key}`, '', spec.description + (spec.required !== undefined ? ' Required.' : ''), '');
    lines.push('| Key | Type | Default | Description |', '| --- | --- | --- | --- |');
    if (spec.node.fields === undefined) lines.push(row(key, spec));
    lines.push(...describeRows(spec.node, key), '');
  }
  lines.push('## Rules across sections', '', ...rules.map((rule) => `- ${rule.description}`), '');
  return lines.join('\n');
}
