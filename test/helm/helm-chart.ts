/**
 * Renders helm/tally with the helm binary that .ci/install-helm.sh builds,
 * and lays out a rendered pod's files in a temp dir, so tests can load the
 * rendered tally.yaml exactly where the container would see it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export type K8sObject = Record<string, any>;

export const repoRoot = new URL('../../', import.meta.url).pathname;
export const chartSource = join(repoRoot, 'helm/tally');
export const dashboardSource = join(chartSource, 'dashboards/tally.json');
export const allFeaturesValues = join(chartSource, 'ci/all-features-values.yaml');
const helmBinary = join(repoRoot, '.cache/bin/helm');

/** Builds helm on first use (from the Go module proxy; minutes on a fresh clone), then returns at once. */
export function installHelm(): void {
  execFileSync(join(repoRoot, '.ci/install-helm.sh'), { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'], timeout: 20 * 60_000 });
}

/**
 * A copy of the chart to render. The Grafana dashboard file is written by the
 * metrics work; until it exists the copy gets a placeholder, so the other
 * checks still run (a dedicated test fails for the missing file).
 */
export function copyChart(): string {
  const chart = join(mkdtempSync(join(tmpdir(), 'tally-chart-')), 'tally');
  cpSync(chartSource, chart, { recursive: true });
  if (!existsSync(dashboardSource)) {
    mkdirSync(join(chart, 'dashboards'), { recursive: true });
    writeFileSync(join(chart, 'dashboards/tally.json'), JSON.stringify({ title: 'placeholder until the metrics work adds the dashboard' }));
  }
  return chart;
}

export interface RenderOptions {
  readonly valuesFiles?: readonly string[];
  /** `--set` assignments, e.g. `replicas=2`. */
  readonly set?: readonly string[];
}

function helmTemplate(chart: string, options: RenderOptions): ReturnType<typeof spawnSync> {
  const args = ['template', 'tally', chart, '--namespace', 'metering'];
  for (const file of options.valuesFiles ?? []) args.push('-f', file);
  for (const assignment of options.set ?? []) args.push('--set', assignment);
  return spawnSync(helmBinary, args, { encoding: 'utf8', timeout: 60_000 });
}

/** `helm template` output as objects; throws with helm's message when rendering fails. */
export function renderChart(chart: string, options: RenderOptions = {}): K8sObject[] {
  const result = helmTemplate(chart, options);
  if (result.status !== 0) throw new Error(`helm template failed (status ${result.status}):\n${String(result.stderr)}`);
  return parseAllDocuments(String(result.stdout))
    .map((document) => document.toJS() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null);
}

/** helm's error output for values that must be refused; throws when helm renders them. */
export function renderError(chart: string, options: RenderOptions): string {
  const result = helmTemplate(chart, options);
  if (result.status === 0) throw new Error(`expected helm template to refuse ${JSON.stringify(options)}`);
  return String(result.stderr);
}

export function only(objects: readonly K8sObject[], kind: string, predicate: (object: K8sObject) => boolean = () => true): K8sObject {
  const found = objects.filter((object) => object['kind'] === kind && predicate(object));
  if (found.length !== 1) throw new Error(`expected exactly one ${kind}, found ${found.length}`);
  return found[0]!;
}

/** What a secret file holds in the pod filesystem: tells which Secret and key it came from. */
export const secretFileContents = (secretName: string, key: string): string => `stub-${secretName}-${key}\n`;

/**
 * Writes the files the StatefulSet's container would see under `root`: the
 * ConfigMap entries and every Secret item at their mount paths (Secret values
 * from `secretFileContents`). Returns the container's first (only) spec.
 */
export function layOutPodFiles(objects: readonly K8sObject[], root: string): K8sObject {
  const statefulSet = only(objects, 'StatefulSet');
  const pod = statefulSet['spec']['template']['spec'];
  const container = pod['containers'][0];
  const volumes = new Map<string, K8sObject>(pod['volumes'].map((volume: K8sObject) => [volume['name'], volume]));
  const write = (path: string, contents: string): void => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), contents);
  };
  for (const mount of container['volumeMounts'] as K8sObject[]) {
    const volume = volumes.get(mount['name']);
    if (volume?.['configMap'] !== undefined) {
      const configMap = only(objects, 'ConfigMap', (object) => object['metadata']['name'] === volume['configMap']['name']);
      const keys: string[] = mount['subPath'] === undefined ? Object.keys(configMap['data']) : [];
      if (mount['subPath'] !== undefined) write(mount['mountPath'], configMap['data'][mount['subPath']]);
      for (const key of keys) write(join(mount['mountPath'], key), configMap['data'][key]);
    } else if (volume?.['secret'] !== undefined) {
      for (const item of volume['secret']['items'] as K8sObject[]) write(join(mount['mountPath'], item['path']), secretFileContents(volume['secret']['secretName'], item['key']));
    } else {
      mkdirSync(join(root, mount['mountPath']), { recursive: true });
    }
  }
  return container;
}
