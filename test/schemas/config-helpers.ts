import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { ConfigError } from '../../schemas/index.js';
import { parseConfig } from '../../schemas/config.js';

export const fixturePath = (name: string): string => new URL(`../fixtures/${name}`, import.meta.url).pathname;
export const readFixture = (name: string): string => readFileSync(fixturePath(name), 'utf8');

/** A valid config as plain data, to be changed by a test and written back as YAML. */
export function validConfig(): Record<string, any> {
  return {
    meters: [
      { slug: 'api_requests', eventType: 'api.request', aggregation: 'COUNT' },
      { slug: 'tokens', eventType: 'llm.tokens', aggregation: 'SUM', valueProperty: '$.tokens' },
    ],
    customers: [{ id: 'acme', subjects: ['acme-prod'], timezone: 'UTC', currency: 'USD', billingAnchor: '2024-01-15', plan: 'pro' }],
    plans: [{ key: 'pro', charges: [{ key: 'base', meter: 'tokens', model: 'per_unit', unitPrice: '0.001' }] }],
  };
}

/** The problems parseConfig reports for `input` (YAML text, or data written as YAML); fails when it parses. */
export function problemsOf(input: string | Record<string, unknown>, options: { baseDir?: string } = {}): string[] {
  const text = typeof input === 'string' ? input : stringify(input);
  try {
    parseConfig(text, 'tally.yaml', options);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error(`expected the config to be refused:\n${text}`);
}

/** Problems after `change` edits a valid config. */
export function problemsAfter(change: (config: Record<string, any>) => void): string[] {
  const config = validConfig();
  change(config);
  return problemsOf(config);
}
