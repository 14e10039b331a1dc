/**
 * `tally topics` against the run's real broker: creates the config's topics
 * with a progress line, checks them with --check, refuses mismatched ones
 * (exit 1, naming the topic), and explains itself with --help.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTopicsArgs, runTopics } from '../../cli/commands/topics.js';
import { UsageError } from '../../cli/commands/cli-args.js';
import type { TopicsConfig } from '../../schemas/index.js';
import { brokers, kafkaClient, uniqueName } from '../kafka/kafka-helpers.js';
import { createTopicsWithPolicy } from '../service/topics-fixtures.js';
import { runTally } from './tally-process.js';


let workDir: string;
beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'tally-topics-test-'));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** A config file with unique topic names; returns its path and the names. */
async function configFile(): Promise<{ path: string; topics: TopicsConfig }> {
  const id = uniqueName('cli-topics');
  const topics: TopicsConfig = { events: `${id}-events`, meters: `${id}-meters`, billing: `${id}-billing`, late: `${id}-late`, deadLetter: `${id}-dead`, customers: `${id}-customers`, invoices: `${id}-invoices`, entitlements: `${id}-entitlements`, alerts: `${id}-alerts` };
  const path = join(workDir, `${id}.yaml`);
  await writeFile(path, JSON.stringify({ kafka: { brokers: brokers() }, topics, meters: [{ slug: 'api_requests', eventType: 'api.request', aggregation: 'COUNT' }] }));
  return { path, topics };
}

async function topicsCommand(args: readonly string[]): Promise<{ status: number; stdout: string[]; stderr: string }> {
  const stdout: string[] = [];
  let stderr = '';
  const status = await runTopics(parseTopicsArgs(args), (line) => stdout.push(line), { isTTY: false, write: (text: string) => (stderr += text) });
  return { status, stdout, stderr };
}

describe('tally topics', () => {
  it('creates the missing topics, then --check finds them all in order', async () => {
    const { path, topics } = await configFile();
    const created = await topicsCommand(['--config', path, '--partitions', '2']);
    expect(created.status, created.stderr).toBe(0);
    expect(created.stderr).toContain('topics: created 9/9');
    expect(created.stdout).toHaveLength(9);
    expect(created.stdout[0]).toMatch(new RegExp(`^${topics.events}  +topics\\.events +2 partitions  cleanup\\.policy=delete +created$`));
    expect(created.stdout[1]).toMatch(new RegExp(`^${topics.customers}  +topics\\.customers +2 partitions  cleanup\\.policy=compact +created$`));

    const checked = await topicsCommand(['--config', path, '--check']);
    expect(checked.status, checked.stderr).toBe(0);
    expect(checked.stderr).toContain('topics: checked 9/9, 9 exist, 0 missing, 0 problems');
    expect(checked.stdout.every((line) => line.endsWith(' ok'))).toBe(true);
  });

  it('--check exits 1 on missing and mismatched topics and names each of them', async () => {
    const { path, topics } = await configFile();
    await createTopicsWithPolicy({ [topics.events]: 2, [topics.meters]: 3 }, 'delete');
    const result = await topicsCommand(['--config', path, '--check']);
    expect(result.status).toBe(1);
    expect(result.stdout).toEqual([]);
    expect(result.stderr).toContain('tally topics: Kafka topics do not fit Tally (9 problems; nothing was changed)');
    expect(result.stderr).toContain(`topic "${topics.meters}" (topics.meters) has 3 partitions; needed: 2`);
    expect(result.stderr).toContain(`topic "${topics.meters}" (topics.meters) has cleanup.policy=delete; needed: cleanup.policy=compact`);
    expect(result.stderr).toContain(`topic "${topics.customers}" (topics.customers) does not exist`);
  });

  it('--check exits 1 on a dead-letter topic with the default max.message.bytes and prints the fix', async () => {
    const { path, topics } = await configFile();
    expect((await topicsCommand(['--config', path, '--partitions', '1'])).status).toBe(0);
    const admin = kafkaClient().admin();
    await admin.connect();
    try {
      // As an operator might: back to the broker's default.
      await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: topics.deadLetter, configEntries: [{ name: 'max.message.bytes', value: '1048588' }] }] });
    } finally {
      await admin.disconnect();
    }
    const result = await topicsCommand(['--config', path, '--check']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Kafka topics do not fit Tally (1 problem; nothing was changed)');
    expect(result.stderr).toContain(`topic "${topics.deadLetter}" (topics.deadLetter) has max.message.bytes=1048588; needed: at least 1572864, because a dead letter carries`);
    expect(result.stderr).toContain(`\`kafka-configs.sh --bootstrap-server ${brokers()[0]} --alter --entity-type topics --entity-name ${topics.deadLetter} --add-config max.message.bytes=1572864\``);
  });

  it('exits 1 with the config problem when the config is bad', async () => {
    const path = join(workDir, 'broken.yaml');
    await writeFile(path, 'meters: []\n');
    const result = await topicsCommand(['--config', path]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('tally topics: invalid configuration');
  });

  it('refuses bad options and explains itself with --help', async () => {
    expect(() => parseTopicsArgs([])).toThrow(UsageError);
    expect(() => parseTopicsArgs(['--config', 'x.yaml', '--partitions', '0'])).toThrow('--partitions "0" must be a whole number >= 1');
    const help = await runTally(['topics', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: tally topics --config FILE [--check] [--partitions N]');
    const bad = await runTally(['topics', '--bogus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown option "--bogus"');
    const listed = await runTally(['--help']);
    expect(listed.stdout).toMatch(/^ {2}topics +create or check the Kafka topics/m);
    expect(listed.stdout).toMatch(/^ {2}demo +run the pipeline on a sample stream/m);
  });
});
