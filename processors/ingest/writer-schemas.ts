/**
 * Writer schemas by registry id, for reading Avro usage events: a synchronous
 * cache for the per-record path, filled asynchronously from the registry.
 *
 * What a lookup can settle on:
 * - `readable`: an Avro schema Tally's reader (`tally.UsageEvent`) can
 *   resolve; kept for the life of the process (ids are immutable);
 * - `unreadable`: the id exists but is not Avro, or cannot be read as a
 *   usage event; kept too (the answer never changes);
 * - `unknown`: the registry says the id does not exist; kept for
 *   `unknownTtlMs`, then asked again.
 * A registry that cannot answer (down, timing out, 5xx, refusing our
 * credentials) settles nothing: `load` backs off and retries, and after
 * `maxWaitMs` rejects with a retriable `schema-registry-unavailable`. A 404 is
 * only believed once the registry answers `GET /config` (a 404 from a wrong
 * URL must not turn every Avro record into a dead letter).
 */
import avro from 'avsc';
import { TallyError } from '../../schemas/errors.js';
import { registryErrorStatus, type RegistryConnection } from './schema-registry-client.js';

export type WriterSchema =
  | { readonly kind: 'readable'; readonly id: number; readonly name: string; read(body: Buffer): unknown }
  | { readonly kind: 'unreadable' | 'unknown'; readonly id: number; readonly message: string };

export interface WriterSchemaCacheOptions {
  readonly registry: RegistryConnection;
  /** The reader: what every writer schema must resolve to. */
  readonly readerType: avro.Type;
  /** First retry delay after a failed fetch, ms (doubles up to `maxBackoffMs`). Default 100. */
  readonly initialBackoffMs?: number;
  /** Default 5 000. */
  readonly maxBackoffMs?: number;
  /**
   * How long one `load` keeps retrying an unreachable registry before it
   * rejects (retriable), ms. Keep it below the consumer session timeout:
   * the task does not heartbeat while it waits. Default 20 000.
   */
  readonly maxWaitMs?: number;
  /** How long an id the registry does not know stays known as unknown, ms. Default 60 000. */
  readonly unknownTtlMs?: number;
  /** Outage and recovery messages. */
  readonly onWarning?: (message: string) => void;
  readonly nowMs?: () => number;
}

export interface WriterSchemaCache {
  /** The settled answer for `id`, or undefined when it must be loaded first. Synchronous. */
  lookup(id: number): WriterSchema | undefined;
  /** Fetches `id` until settled. Concurrent loads of one id share one fetch. */
  load(id: number): Promise<void>;
}

type Attempt = { readonly settled: WriterSchema } | { readonly transient: string };

export function createWriterSchemaCache(options: WriterSchemaCacheOptions): WriterSchemaCache {
  const { registry, readerType } = options;
  const nowMs = options.nowMs ?? Date.now;
  const initialBackoffMs = options.initialBackoffMs ?? 100;
  const maxBackoffMs = options.maxBackoffMs ?? 5_000;
  const maxWaitMs = options.maxWaitMs ?? 20_000;
  const unknownTtlMs = options.unknownTtlMs ?? 60_000;
  const warn = options.onWarning ?? (() => undefined);
  const readerName = readerType.name ?? 'the usage event schema';
  const settled = new Map<number, { schema: WriterSchema; expiresAtMs: number }>();
  const loading = new Map<number, Promise<void>>();
  let outage = false;

  function readable(id: number, writer: avro.Type): WriterSchema {
    const name = writer.name ?? writer.typeName;
    try {
      // Same schema: read directly (faster); otherwise Avro schema resolution into the reader.
      const resolver = writer.equals(readerType) ? undefined : readerType.createResolver(writer);
      return { kind: 'readable', id, name, read: (body) => readerType.fromBuffer(body, resolver) };
    } catch (error) {
      return { kind: 'unreadable', id, message: `schema ${id} (${name}) cannot be read as ${readerName}: ${(error as Error).message}; register a ${readerName} schema (see docs/avro.md)` };
    }
  }

  /** The registry answers its own API: a 404 for an id is then believed. */
  async function registryAnswers(): Promise<boolean> {
    try {
      const { status, body } = await registry.call('GET', '/config');
      return status === 200 && typeof (body as { compatibilityLevel?: unknown } | undefined)?.compatibilityLevel === 'string';
    } catch {
      return false;
    }
  }

  async function attempt(id: number): Promise<Attempt> {
    let schema: unknown;
    try {
      schema = await registry.client.getSchema(id);
    } catch (error) {
      const status = registryErrorStatus(error);
      const message = (error as Error).message;
      if (status === 404) {
        if (await registryAnswers()) return { settled: { kind: 'unknown', id, message: `the schema registry has no schema with id ${id} (${message})` } };
        return { transient: `404 for schema ${id}, and ${registry.url}/config does not answer either: check schemaRegistry.url (Apicurio: …/apis/ccompat/v7)` };
      }
      if (status !== undefined) return { transient: message };
      // No HTTP status: the client failed after the request. Only if the registry does serve
      // this id is it the schema's fault (not Avro, or not parsable); anything else is an outage.
      const served = await registry.call('GET', `/schemas/ids/${id}`).catch(() => undefined);
      if (served?.status === 200) return { settled: { kind: 'unreadable', id, message: `schema ${id} cannot be used: ${message}` } };
      return { transient: message };
    }
    if (!(schema instanceof avro.Type)) return { settled: { kind: 'unreadable', id, message: `schema ${id} is not an Avro schema; usage events in the wire format must use an Avro ${readerName} schema` } };
    return { settled: readable(id, schema) };
  }

  async function fetchUntilSettled(id: number): Promise<void> {
    const startedMs = nowMs();
    for (let delayMs = initialBackoffMs; ; delayMs = Math.min(delayMs * 2, maxBackoffMs)) {
      const result = await attempt(id);
      if ('settled' in result) {
        if (outage) warn(`schema registry ${registry.url} answers again`);
        outage = false;
        settled.set(id, { schema: result.settled, expiresAtMs: result.settled.kind === 'unknown' ? nowMs() + unknownTtlMs : Infinity });
        return;
      }
      const waitedMs = nowMs() - startedMs;
      if (waitedMs >= maxWaitMs) {
        warn(`schema registry ${registry.url} still cannot give schema ${id} after ${waitedMs} ms; failing the record's task, which retries it`);
        throw new TallyError(
          'schema-registry-unavailable',
          `schema registry ${registry.url} did not answer for schema ${id} within ${waitedMs} ms (${result.transient}); the record is kept and retried — nothing is dead-lettered for an outage`,
          { retriable: true },
        );
      }
      if (!outage) warn(`schema registry ${registry.url} cannot give schema ${id} (${result.transient}); retrying with back-off for up to ${maxWaitMs} ms`);
      outage = true;
      await new Promise((resolve) => setTimeout(resolve, Math.min(delayMs, maxWaitMs - waitedMs)));
    }
  }

  return {
    lookup(id) {
      const entry = settled.get(id);
      if (entry === undefined) return undefined;
      if (entry.expiresAtMs !== Infinity && entry.expiresAtMs <= nowMs()) {
        settled.delete(id);
        return undefined;
      }
      return entry.schema;
    },
    load(id) {
      let pending = loading.get(id);
      if (pending === undefined) {
        pending = fetchUntilSettled(id).finally(() => loading.delete(id));
        loading.set(id, pending);
      }
      return pending;
    },
  };
}
