/**
 * CPU profiles for the benchmarks: record one phase of a run with the V8
 * inspector (so producing the input and the raw consume are not in it), write
 * it as a `.cpuprofile` (opens in Chrome DevTools), and print where the time
 * went: top functions by self time and the share of each layer (kafkajs,
 * LevelDB, Tally's state / topology / processors, GC, idle).
 *
 *   node dist/bench/cpu-profile.js FILE.cpuprofile [--top 25]   # summarize a saved profile
 */
import { Session } from 'node:inspector/promises';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

/** Starts the V8 sampling profiler in this process; `stop(path)` writes the profile and returns it. */
export async function startCpuProfile(): Promise<{ stop(path: string): Promise<CpuProfile> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return {
    async stop(path) {
      const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
      session.disconnect();
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, JSON.stringify(profile));
      return profile;
    },
  };
}

const layers: readonly (readonly [string, RegExp])[] = [
  ['kafkajs', /node_modules\/kafkajs\//],
  ['LevelDB (classic-level)', /node_modules\/(classic-level|abstract-level|level-)/],
  ['decimal.js', /node_modules\/decimal\.js/],
  ['tally state/', /\/state\//],
  ['tally topology/', /\/topology\//],
  ['tally processors/', /\/processors\//],
  ['tally schemas/', /\/schemas\//],
  ['node internals', /^node:|^internal\//],
];

function layerOf(node: ProfileNode): string {
  const { functionName, url } = node.callFrame;
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return 'idle (waiting on I/O)';
  if (functionName === '(program)') return 'V8 / native (program)';
  for (const [name, pattern] of layers) if (pattern.test(url)) return name;
  return url === '' ? `native: ${functionName || '(anonymous)'}` : 'other';
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^.*\/(node_modules\/)?/, '').replace(/^file:\/\//, '');
  return `${functionName || '(anonymous)'} ${file === '' ? '' : `${file}:${lineNumber + 1}`}`.trim();
}

/** Self time per node id, in µs. */
function selfTimes(profile: CpuProfile): Map<number, number> {
  const self = new Map<number, number>();
  profile.samples.forEach((id, index) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
  return self;
}

/** Total time per function with everything it called (a sample counts once per function, even in recursion), in µs. */
function inclusiveTimes(profile: CpuProfile, self: Map<number, number>): Map<string, number> {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = frameName(byId.get(at) as ProfileNode);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
  }
  return inclusive;
}

/** A text report: layers by share of all samples, then the top functions by self and by total time. */
export function summarizeProfile(profile: CpuProfile, top = 25): string {
  const self = selfTimes(profile);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const totalUs = [...self.values()].reduce((a, b) => a + b, 0);
  const byLayer = new Map<string, number>();
  const byFrame = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id) as ProfileNode;
    byLayer.set(layerOf(node), (byLayer.get(layerOf(node)) ?? 0) + us);
    byFrame.set(frameName(node), (byFrame.get(frameName(node)) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / totalUs).toFixed(1).padStart(5)}%`;
  const lines = [`profile: ${(totalUs / 1e6).toFixed(1)} s sampled`, '', 'by layer (self time):'];
  for (const [layer, us] of [...byLayer].sort((a, b) => b[1] - a[1])) if (us >= totalUs / 200) lines.push(`  ${pct(us)}  ${layer}`);
  lines.push('', `top ${top} functions (self time):`);
  for (const [frame, us] of [...byFrame].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(us)}  ${frame}`);
  lines.push('', `top ${top} functions (total time, with callees):`);
  const inclusive = [...inclusiveTimes(profile, self)].filter(([frame]) => !frame.startsWith('(root)'));
  for (const [frame, us] of inclusive.sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(us)}  ${frame}`);
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
  for (const path of positionals) {
    console.log(`# ${path}`);
    console.log(summarizeProfile(JSON.parse(await readFile(path, 'utf8')) as CpuProfile, Number(values.top)));
  }
}
