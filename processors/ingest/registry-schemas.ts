/**
 * Tally's Avro schemas in a schema registry, one subject per topic
 * (`<topic>-value`, the topic name strategy):
 *
 * | subject | schema | compatibility set on a new subject |
 * | --- | --- | --- |
 * | `<topics.events>-value` | tally.UsageEvent | FORWARD_TRANSITIVE: every later producer schema stays readable by Tally's reader (the first version) |
 * | `<topics.meters>-value`, `<topics.deadLetter>-value`, `<topics.late>-value`, `<topics.billing>-value` | MeterRecord, DeadLetterRecord, LateEventRecord, BillingDetail | FULL_TRANSITIVE: the topics are compacted, so old and new readers meet old and new records |
 *
 * `checkTallySchemas` reports, without changing anything, every subject whose
 * latest version Tally's schema is not compatible with (the registry's own
 * check, under the subject's configured level), and for the input subject
 * whether its latest producer schema can be read as tally.UsageEvent.
 * `registerTallySchemas` runs the check, refuses to register anything if a
 * problem is found, then registers (idempotent: an identical schema keeps its
 * id) and sets the level on subjects it created. An existing subject's level
 * is the operator's and is left alone.
 */
import avro from 'avsc';
import { loadAvroSchema, type AvroSchemaName } from '../../schemas/avro.js';
import type { TopicsConfig } from '../../schemas/config-types.js';
import { TallyError } from '../../schemas/errors.js';
import type { RegistryConnection } from './schema-registry-client.js';

export const compatibilityLevels = ['BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE', 'NONE'] as const;
export type CompatibilityLevel = (typeof compatibilityLevels)[number];

export interface TallySubject {
  readonly subject: string;
  readonly schemaName: AvroSchemaName;
  /** Level set when Tally creates the subject. */
  readonly compatibility: CompatibilityLevel;
}

export interface RegisteredSchema extends TallySubject {
  /** The registry's id for the schema (what goes in the wire format). */
  readonly id: number;
  /** True when the subject did not exist before. */
  readonly created: boolean;
}

export function tallySchemaSubjects(topics: TopicsConfig): TallySubject[] {
  return [
    { subject: `${topics.events}-value`, schemaName: 'usageEvent', compatibility: 'FORWARD_TRANSITIVE' },
    { subject: `${topics.meters}-value`, schemaName: 'meterRecord', compatibility: 'FULL_TRANSITIVE' },
    { subject: `${topics.deadLetter}-value`, schemaName: 'deadLetterRecord', compatibility: 'FULL_TRANSITIVE' },
    { subject: `${topics.late}-value`, schemaName: 'lateEventRecord', compatibility: 'FULL_TRANSITIVE' },
    { subject: `${topics.billing}-value`, schemaName: 'billingDetail', compatibility: 'FULL_TRANSITIVE' },
  ];
}

/**
 * The schema as registered: compact JSON, except that a string default of
 * `"{}"` follows its colon on a new line. Apicurio Registry (3.0.x, and its
 * main branch at the time of writing) detects Avro by first rewriting
 * `: "{}"` to `:{}` (AvroContentAccepter), which turns usage-event.avsc's
 * `data` default into an object and rejects the schema ("Failed to discover
 * artifact type from content", 422). A newline is JSON whitespace its pattern
 * does not match; the schema is the same to every parser.
 */
export function registrySchemaText(schema: unknown): string {
  return JSON.stringify(schema).replace(/:"\{\}"/g, ':\n"{}"');
}

const path = (subject: string): string => encodeURIComponent(subject);

function unavailable(what: string, status: number, body: unknown): TallyError {
  return new TallyError('schema-registry-unavailable', `${what}: the registry answered ${status} ${JSON.stringify(body)}`, { retriable: status >= 500 || status === 429 });
}

/** Undefined when the subject has no versions yet. */
async function latestVersion(registry: RegistryConnection, subject: string): Promise<{ readonly id: number; readonly version: number; readonly schema: string } | undefined> {
  const { status, body } = await registry.call('GET', `/subjects/${path(subject)}/versions/latest`);
  if (status === 404) return undefined;
  if (status !== 200) throw unavailable(`reading the latest version of ${subject}`, status, body);
  return body as { id: number; version: number; schema: string };
}

async function checkOne(registry: RegistryConnection, entry: TallySubject): Promise<{ readonly problems: string[]; readonly exists: boolean }> {
  const schema = loadAvroSchema(entry.schemaName);
  const latest = await latestVersion(registry, entry.subject);
  if (latest === undefined) return { problems: [], exists: false };
  const problems: string[] = [];
  const { status, body } = await registry.call('POST', `/compatibility/subjects/${path(entry.subject)}/versions/latest?verbose=true`, { schema: registrySchemaText(schema) });
  if (status !== 200) throw unavailable(`checking ${entry.subject}`, status, body);
  const verdict = body as { is_compatible?: boolean; messages?: unknown };
  if (verdict.is_compatible !== true) {
    const details = Array.isArray(verdict.messages) && verdict.messages.length > 0 ? `: ${verdict.messages.join('; ')}` : '';
    problems.push(`${entry.subject}: Tally's ${entry.schemaName} schema is not compatible with version ${latest.version} (id ${latest.id}) under the subject's compatibility level${details}`);
  }
  if (entry.schemaName === 'usageEvent') {
    try {
      const reader = avro.Type.forSchema(schema);
      const writer = avro.Type.forSchema(JSON.parse(latest.schema) as avro.Schema);
      if (!writer.equals(reader)) reader.createResolver(writer);
    } catch (error) {
      problems.push(`${entry.subject}: the latest producer schema (version ${latest.version}, id ${latest.id}) cannot be read as tally.UsageEvent: ${(error as Error).message}`);
    }
  }
  return { problems, exists: true };
}

/** Every compatibility problem of Tally's schemas against `topics`' subjects; empty when all is well. */
export async function checkTallySchemas(registry: RegistryConnection, topics: TopicsConfig, options: { include?: readonly AvroSchemaName[] } = {}): Promise<string[]> {
  const problems: string[] = [];
  for (const entry of selected(topics, options.include)) problems.push(...(await checkOne(registry, entry)).problems);
  return problems;
}

function selected(topics: TopicsConfig, include: readonly AvroSchemaName[] | undefined): TallySubject[] {
  return tallySchemaSubjects(topics).filter((s) => include === undefined || include.includes(s.schemaName));
}

/**
 * Checks, then registers Tally's schemas (all five, or `include`).
 * @throws TallyError `schema-incompatible` listing every problem, before registering anything
 */
export async function registerTallySchemas(registry: RegistryConnection, topics: TopicsConfig, options: { include?: readonly AvroSchemaName[] } = {}): Promise<RegisteredSchema[]> {
  const entries = selected(topics, options.include);
  const checked = [];
  for (const entry of entries) checked.push({ entry, ...(await checkOne(registry, entry)) });
  const problems = checked.flatMap((c) => c.problems);
  if (problems.length > 0) throw new TallyError('schema-incompatible', `Tally's Avro schemas do not fit the registry ${registry.url}:\n  ${problems.join('\n  ')}`);

  const registered: RegisteredSchema[] = [];
  for (const { entry, exists } of checked) {
    const text = registrySchemaText(loadAvroSchema(entry.schemaName));
    const { status, body } = await registry.call('POST', `/subjects/${path(entry.subject)}/versions`, { schema: text });
    if (status === 409) throw new TallyError('schema-incompatible', `${entry.subject}: the registry refused Tally's ${entry.schemaName} schema as incompatible: ${JSON.stringify(body)}`);
    if (status === 422) throw new TallyError('schema-invalid', `${entry.subject}: the registry refused Tally's ${entry.schemaName} schema as invalid: ${JSON.stringify(body)}`);
    if (status !== 200) throw unavailable(`registering ${entry.subject}`, status, body);
    if (!exists) {
      const config = await registry.call('PUT', `/config/${path(entry.subject)}`, { compatibility: entry.compatibility });
      if (config.status !== 200) throw unavailable(`setting the compatibility of ${entry.subject}`, config.status, config.body);
    }
    registered.push({ ...entry, id: (body as { id: number }).id, created: !exists });
  }
  return registered;
}
