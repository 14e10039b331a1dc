/**
 * Loading `tally.yaml`: YAML → declared schema (`config-schema.ts`) → one
 * ConfigError listing every problem with its path, or a deeply frozen
 * TallyConfig with every default applied.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { configRules } from './config-rules.js';
import { configSchema } from './config-schema.js';
import type { TallyConfig } from './config-types.js';
import { ConfigError } from './errors.js';
import { INVALID, type ParseContext } from './internal/config-dsl.js';
import { describeRoot, redactValue } from './internal/config-walk.js';

export interface ParseConfigOptions {
  /** Directory that relative paths in the config (`http.tokensFile`) resolve against; default: the current directory. */
  readonly baseDir?: string;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const element of Object.values(value)) deepFreeze(element);
  }
  return value;
}

/**
 * YAML text to plain data. Messages carry line:column but never the source
 * line itself (it could hold a token).
 */
function readYaml(yamlText: string, sourceName: string): unknown {
  const lineCounter = new LineCounter();
  const document = parseDocument(yamlText, { prettyErrors: false, uniqueKeys: true, lineCounter });
  const problems = document.errors.map((error) => {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    return `${sourceName}:${line}:${col}: YAML syntax error: ${error.message.split('\n')[0] ?? ''}`;
  });
  if (problems.length > 0) throw new ConfigError(problems);
  try {
    return document.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    throw new ConfigError([`${sourceName}: YAML error: ${error instanceof Error ? error.message : String(error)}`]);
  }
}

/**
 * Parses and validates `tally.yaml` text.
 * @param sourceName used in messages about the file as a whole (YAML syntax errors carry `sourceName:line:col`).
 * @throws ConfigError listing every problem, each as `path: what is wrong; how to fix it`.
 */
export function parseConfig(yamlText: string, sourceName = 'tally.yaml', options: ParseConfigOptions = {}): TallyConfig {
  const raw = readYaml(yamlText, sourceName);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    const got = raw === null || raw === undefined ? 'is empty' : 'is not a mapping';
    throw new ConfigError([`${sourceName}: ${got}; a config is a YAML mapping that declares at least meters (see the tally.yaml reference)`]);
  }
  const problems: string[] = [];
  const ctx: ParseContext = {
    baseDir: options.baseDir ?? process.cwd(),
    report: (path, message) => problems.push(`${path}: ${message}`),
  };
  const config = configSchema.parse(raw, '', ctx);
  if (problems.length > 0 || config === INVALID) throw new ConfigError(problems);
  return deepFreeze(config as unknown as TallyConfig);
}

/** Reads and parses a config file; `http.tokensFile` resolves against the file's directory. */
export async function loadConfig(path: string): Promise<TallyConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError([`${path}: cannot read the config file (${code}); pass an existing file with --config`]);
  }
  return parseConfig(text, path, { baseDir: dirname(resolve(path)) });
}

/** A printable copy of `config` (for logs, `--print-config`): bearer tokens, SASL credentials, TLS keys and URL credentials are `[redacted]`. */
export function redactConfig(config: TallyConfig): Record<string, unknown> {
  return redactValue(configSchema, config) as Record<string, unknown>;
}

/** The `tally.yaml` reference as markdown: every key with its type, default, constraints and description, then the cross-section rules. */
export function describeConfigSchema(): string {
  return describeRoot('tally.yaml reference', configSchema, configRules);
}
