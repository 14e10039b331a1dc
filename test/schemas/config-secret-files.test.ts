import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig, parseConfig, redactConfig } from '../../schemas/config.js';
import { problemsOf, validConfig } from './config-helpers.js';

const CA = '-----BEGIN CERTIFICATE-----\nCA-BODY\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nCLIENT-BODY\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nKEY-BODY\n-----END PRIVATE KEY-----\n';

/** A config directory with the secrets in a `secrets/` folder beside tally.yaml, as the Helm chart mounts them. */
function configDirWithSecrets(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tally-secret-files-'));
  mkdirSync(join(dir, 'secrets'));
  writeFileSync(join(dir, 'secrets', 'ca.crt'), CA);
  writeFileSync(join(dir, 'secrets', 'tls.crt'), CERT);
  writeFileSync(join(dir, 'secrets', 'tls.key'), KEY);
  writeFileSync(join(dir, 'secrets', 'password'), 'sasl-file-password\n');
  return dir;
}

const kafkaWithFiles = {
  brokers: ['kafka:9093'],
  ssl: { caFile: 'secrets/ca.crt', certFile: 'secrets/tls.crt', keyFile: 'secrets/tls.key', rejectUnauthorized: true },
  sasl: { mechanism: 'scram-sha-512', username: 'svc', passwordFile: 'secrets/password' },
};

describe('kafka secret files', () => {
  it('reads ssl.caFile, certFile, keyFile and sasl.passwordFile relative to the config file into the options kafkajs takes', async () => {
    const dir = configDirWithSecrets();
    writeFileSync(join(dir, 'tally.yaml'), stringify({ ...validConfig(), kafka: kafkaWithFiles }));
    const config = await loadConfig(join(dir, 'tally.yaml'));
    expect(config.kafka.ssl).toEqual({ ca: CA, cert: CERT, key: KEY, rejectUnauthorized: true });
    expect(config.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'svc', password: 'sasl-file-password' });
  });

  it('accepts absolute paths whatever the config directory is', () => {
    const dir = configDirWithSecrets();
    const kafka = { brokers: ['kafka:9093'], sasl: { mechanism: 'plain', username: 'svc', passwordFile: join(dir, 'secrets', 'password') } };
    const config = parseConfig(stringify({ ...validConfig(), kafka }), 'tally.yaml', { baseDir: '/nonexistent' });
    expect(config.kafka.sasl).toEqual({ mechanism: 'plain', username: 'svc', password: 'sasl-file-password' });
  });

  it('keeps PEM contents byte for byte but drops only trailing line breaks from the password', () => {
    const dir = configDirWithSecrets();
    writeFileSync(join(dir, 'secrets', 'password'), ' spaced pass \r\n\n');
    const config = parseConfig(stringify({ ...validConfig(), kafka: kafkaWithFiles }), 'tally.yaml', { baseDir: dir });
    expect(config.kafka.sasl?.['password']).toBe(' spaced pass ');
    expect(config.kafka.ssl).toMatchObject({ key: KEY });
  });

  it('leaves ssl: true and inline secrets alone', () => {
    const kafka = { brokers: ['kafka:9093'], ssl: true, sasl: { mechanism: 'plain', username: 'svc', password: 'inline' } };
    const config = parseConfig(stringify({ ...validConfig(), kafka }));
    expect(config.kafka.ssl).toBe(true);
    expect(config.kafka.sasl).toEqual({ mechanism: 'plain', username: 'svc', password: 'inline' });
  });

  it('reports every unreadable file with its resolved path', () => {
    const problems = problemsOf({ ...validConfig(), kafka: kafkaWithFiles }, { baseDir: '/nonexistent' });
    expect(problems).toEqual([
      `kafka.ssl.caFile: cannot read "/nonexistent/secrets/ca.crt" (ENOENT); give a readable file holding the CA certificate(s) in PEM (relative paths resolve against the config file's directory)`,
      `kafka.ssl.certFile: cannot read "/nonexistent/secrets/tls.crt" (ENOENT); give a readable file holding the client certificate in PEM (relative paths resolve against the config file's directory)`,
      `kafka.ssl.keyFile: cannot read "/nonexistent/secrets/tls.key" (ENOENT); give a readable file holding the client private key in PEM (relative paths resolve against the config file's directory)`,
      `kafka.sasl.passwordFile: cannot read "/nonexistent/secrets/password" (ENOENT); give a readable file holding the SASL password (relative paths resolve against the config file's directory)`,
    ]);
  });

  it('refuses an empty file, a path that is not a string, and a secret given both inline and as a file', () => {
    const dir = configDirWithSecrets();
    writeFileSync(join(dir, 'secrets', 'empty'), '\n');
    const kafka = {
      brokers: ['kafka:9093'],
      ssl: { ca: 'inline CA', caFile: 'secrets/ca.crt', keyFile: 42 },
      sasl: { mechanism: 'plain', username: 'svc', passwordFile: 'secrets/empty' },
    };
    expect(problemsOf({ ...validConfig(), kafka }, { baseDir: dir })).toEqual([
      'kafka.ssl.caFile: give either kafka.ssl.ca or kafka.ssl.caFile, not both',
      'kafka.ssl.keyFile: must be a file path (a non-empty string); got a number',
      `kafka.sasl.passwordFile: ${JSON.stringify(join(dir, 'secrets', 'empty'))} is empty; it must hold the SASL password`,
    ]);
  });

  it('never prints file contents: not in messages, and redacted in the printable config', () => {
    const dir = configDirWithSecrets();
    const bad = problemsOf({ ...validConfig(), kafka: { ...kafkaWithFiles, brokers: ['not a broker'] } }, { baseDir: dir });
    expect(bad.join('\n')).not.toMatch(/sasl-file-password|KEY-BODY/);
    const config = parseConfig(stringify({ ...validConfig(), kafka: kafkaWithFiles }), 'tally.yaml', { baseDir: dir });
    const printed = JSON.stringify(redactConfig(config));
    expect(printed).not.toContain('sasl-file-password');
    expect(printed).not.toContain('KEY-BODY');
    expect(printed).not.toContain('passwordFile');
  });
});
