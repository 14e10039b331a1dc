/**
 * The `tally` command line. Each command has `--help`; unknown commands and
 * options exit with status 2 and say what is available.
 */
import { readFileSync } from 'node:fs';
import { replayCommand } from './commands/replay.js';
import { topicsCommand } from './commands/topics.js';
import { demoCommand } from './commands/demo.js';
import { produceCommand } from './commands/produce.js';
import { runCommand } from './commands/run.js';
import { queryCommand } from './commands/query.js';

interface Command {
  readonly summary: string;
  readonly help: string;
  run(args: readonly string[]): Promise<number>;
}

const commands: Record<string, Command> = {
  replay: replayCommand,
  topics: topicsCommand,
  demo: demoCommand,
  produce: produceCommand,
  run: runCommand,
  query: queryCommand,
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function usage(): string {
  const lines = ['Usage: tally <command> [options]', '', 'Commands:'];
  for (const [name, command] of Object.entries(commands)) lines.push(`  ${name.padEnd(10)} ${command.summary}`);
  if (Object.keys(commands).length === 0) lines.push('  (none yet: the streams core is a library; see README.md)');
  lines.push('', 'Options:', '  --help      show this help', '  --version   print the version');
  return lines.join('\n');
}

/** Runs the CLI with `argv` (without node and script); returns the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    console.log(version());
    return 0;
  }
  const command = commands[name];
  if (command === undefined) {
    console.error(`tally: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  if (rest.includes('--help')) {
    console.log(command.help);
    return 0;
  }
  return command.run(rest);
}
