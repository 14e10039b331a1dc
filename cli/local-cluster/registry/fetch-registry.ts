/**
 * Fetches the Apicurio Registry distribution from Maven Central with Maven and unpacks it
 * into the cache: `<cache>/apicurio-registry-<version>/app` (marker `.tally-complete`).
 *
 * The artifact is `io.apicurio:apicurio-registry-app:<version>:tar.gz:all`. Its POM names a
 * parent (`io.apicurio:apicurio-registry`) that is not published on Maven Central, so
 * maven-dependency-plugin 3.x refuses it ("Failed to read artifact descriptor"); version 2.8
 * of the plugin (the one Maven 3.8 binds by default) fetches the single file with
 * `-Dtransitive=false` and copies it to `-Ddest`. It is pinned here, not left to Maven's default.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultCacheDir } from '../local-kafka.js';

/**
 * The newest 3.x on Maven Central that runs on JDK 17 (3.1 and later are compiled for Java 21;
 * on Maven Central today: 3.0.9, 3.3.2, 3.3.3).
 */
export const DEFAULT_REGISTRY_VERSION = '3.0.9';

const MARKER = '.tally-complete';
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:2.8';

export interface RegistryDistribution {
  readonly version: string;
  /** The unpacked distribution. */
  readonly dir: string;
  /** The runnable jar inside it (`quarkus-run.jar` for 3.1+, `*-runner.jar` for 3.0). */
  readonly jar: string;
  /** Download + unpack time, ms; 0 when it was cached. */
  readonly fetchedInMs: number;
}

export function resolveRegistryVersion(version?: string): string {
  const v = version ?? process.env['TALLY_REGISTRY_VERSION'] ?? DEFAULT_REGISTRY_VERSION;
  if (!/^\d+\.\d+\.\d+([.-][A-Za-z0-9.-]+)?$/.test(v)) throw new Error(`local-registry: bad Apicurio Registry version ${JSON.stringify(v)}`);
  return v;
}

function runnableJar(dir: string): string | undefined {
  if (existsSync(join(dir, 'quarkus-run.jar'))) return join(dir, 'quarkus-run.jar');
  const runner = readdirSync(dir).find((f) => f.endsWith('-runner.jar'));
  return runner === undefined ? undefined : join(dir, runner);
}

function run(command: string, args: string[], what: string): void {
  const r = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  if (r.error === undefined && r.status === 0) return;
  const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
  throw new Error(`local-registry: ${what} failed (${r.error?.message ?? `exit ${String(r.status)}`}): ${command} ${args.join(' ')}\n${out}`);
}

/**
 * Makes sure the distribution of `version` is unpacked in the cache, fetching it with Maven
 * (`$TALLY_MVN` or `mvn`) if missing or incomplete. Maven keeps its own copy in `~/.m2`.
 */
export function ensureRegistryDistribution(options: { version?: string; cacheDir?: string; onProgress?: (message: string) => void } = {}): RegistryDistribution {
  const version = resolveRegistryVersion(options.version);
  const progress = options.onProgress ?? ((m: string) => process.stderr.write(`[local-registry] ${m}\n`));
  const base = join(options.cacheDir ?? defaultCacheDir(), `apicurio-registry-${version}`);
  const dir = join(base, 'app');
  const cachedJar = existsSync(join(dir, MARKER)) ? runnableJar(dir) : undefined;
  if (cachedJar !== undefined) return { version, dir, jar: cachedJar, fetchedInMs: 0 };

  const t0 = Date.now();
  const partial = join(base, `app.partial-${process.pid}`);
  const archive = join(base, `download-${process.pid}.tar.gz`);
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const mvn = process.env['TALLY_MVN'] ?? 'mvn';
  const coordinates = `io.apicurio:apicurio-registry-app:${version}:tar.gz:all`;
  progress(`fetching Apicurio Registry ${version} (${coordinates}, ~110 MB) from Maven Central (first run only)`);
  try {
    try {
      run(mvn, ['-q', '-B', `${DEPENDENCY_PLUGIN}:get`, `-Dartifact=${coordinates}`, '-Dtransitive=false', `-Ddest=${archive}`], `fetching ${coordinates} with Maven (is '${mvn}' installed and Maven Central reachable?)`);
      run('tar', ['xzf', archive, '-C', partial], `unpacking ${archive}`);
    } finally {
      rmSync(archive, { force: true });
    }
    const jar = runnableJar(partial);
    if (jar === undefined) throw new Error(`local-registry: ${coordinates} unpacked into ${partial} holds no quarkus-run.jar or *-runner.jar`);
    writeFileSync(join(partial, MARKER), `${coordinates}\n${new Date().toISOString()}\n`);
    rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(partial, dir);
    } catch (e) {
      // Another process may have won the race; accept its result if complete.
      if (!existsSync(join(dir, MARKER))) throw e;
    }
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
  const jar = runnableJar(dir) as string;
  const fetchedInMs = Date.now() - t0;
  progress(`fetched and unpacked Apicurio Registry ${version} in ${(fetchedInMs / 1000).toFixed(1)} s into ${dir}`);
  return { version, dir, jar, fetchedInMs };
}
