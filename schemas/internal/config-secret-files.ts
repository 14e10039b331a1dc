/**
 * Secrets given as files (Kubernetes mounts Secrets as files): a config key
 * like `kafka.sasl.passwordFile` names a file, relative to the config file's
 * directory, whose contents replace it under the plain key (`password`).
 * Contents are never quoted in messages; only the resolved path is.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { joinPath, kindOf, type ParseContext } from './config-dsl.js';

/** One `<key>File` option and how its contents are read into `<key>`. */
export interface SecretFileOption {
  /** The option naming the file, e.g. `passwordFile`. */
  readonly fileKey: string;
  /** The option its contents become, e.g. `password`. */
  readonly into: string;
  /** What the file should hold, for messages: "the SASL password". */
  readonly holds: string;
  /** Drop trailing line breaks (a password file written with `echo`); PEM files are kept as they are. */
  readonly trimTrailingNewlines?: boolean;
}

/**
 * Reads a file named in the config, resolved against `ctx.baseDir`.
 * Reports an unreadable or empty file at `path` with its resolved path and returns undefined.
 */
export function readConfigFile(name: string, path: string, ctx: ParseContext, holds: string): string | undefined {
  const file = resolve(ctx.baseDir, name);
  let contents: string;
  try {
    contents = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    ctx.report(path, `cannot read ${JSON.stringify(file)} (${code}); give a readable file holding ${holds} (relative paths resolve against the config file's directory)`);
    return undefined;
  }
  if (contents.trim() === '') {
    ctx.report(path, `${JSON.stringify(file)} is empty; it must hold ${holds}`);
    return undefined;
  }
  return contents;
}

/**
 * Replaces each `<key>File` option of `options` by the file's contents under `<key>`.
 * Giving both `<key>` and `<key>File` is refused (which one wins would be a guess).
 */
export function mergeSecretFiles(
  options: Readonly<Record<string, unknown>>,
  path: string,
  ctx: ParseContext,
  fileOptions: readonly SecretFileOption[],
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...options };
  for (const { fileKey, into, holds, trimTrailingNewlines } of fileOptions) {
    const name = options[fileKey];
    if (name === undefined) continue;
    delete merged[fileKey];
    const filePath = joinPath(path, fileKey);
    if (typeof name !== 'string' || name === '') {
      ctx.report(filePath, `must be a file path (a non-empty string); got ${typeof name === 'string' ? 'an empty string' : kindOf(name)}`);
      continue;
    }
    if (options[into] !== undefined) {
      ctx.report(filePath, `give either ${joinPath(path, into)} or ${filePath}, not both`);
      continue;
    }
    const contents = readConfigFile(name, filePath, ctx, holds);
    if (contents !== undefined) merged[into] = trimTrailingNewlines === true ? contents.replace(/[\r\n]+$/, '') : contents;
  }
  return merged;
}
