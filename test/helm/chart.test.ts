import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig, type TallyConfig } from '../../schemas/index.js';
import {
  allFeaturesValues,
  copyChart,
  dashboardSource,
  installHelm,
  layOutPodFiles,
  only,
  renderChart,
  renderError,
  secretFileContents,
  type K8sObject,
} from './helm-chart.js';

let chart = '';
const rendered: Record<string, K8sObject[]> = {};

beforeAll(() => {
  installHelm();
  chart = copyChart();
  rendered['default values'] = renderChart(chart);
  rendered['all features'] = renderChart(chart, { valuesFiles: [allFeaturesValues] });
}, 20 * 60_000);

const statefulSetOf = (objects: K8sObject[]): K8sObject => only(objects, 'StatefulSet');
const podOf = (objects: K8sObject[]): K8sObject => statefulSetOf(objects)['spec']['template'];
const containerOf = (objects: K8sObject[]): K8sObject => podOf(objects)['spec']['containers'][0];
const configMapOf = (objects: K8sObject[]): K8sObject => only(objects, 'ConfigMap', (object) => object['data']?.['tally.yaml'] !== undefined);
const renderedConfig = (objects: K8sObject[]): Record<string, any> => parse(configMapOf(objects)['data']['tally.yaml']);
const configPathOf = (objects: K8sObject[]): string => {
  const args: string[] = containerOf(objects)['args'];
  return args[args.indexOf('--config') + 1]!;
};
/** Loads the rendered tally.yaml from a copy of the pod's files: relative secret paths only resolve if those files are mounted there. */
async function loadPodConfig(objects: K8sObject[]): Promise<TallyConfig> {
  const root = mkdtempSync(join(tmpdir(), 'tally-pod-'));
  layOutPodFiles(objects, root);
  const configFile = join(root, configPathOf(objects));
  expect(readFileSync(configFile, 'utf8')).toBe(configMapOf(objects)['data']['tally.yaml']);
  return loadConfig(configFile);
}
/** Whether `selector` (matchLabels or a Service selector) selects the StatefulSet's pods. */
const selectsPods = (objects: K8sObject[], selector: Record<string, string>): boolean =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => podOf(objects)['metadata']['labels'][key] === value);

describe.each(['default values', 'all features'])('the chart rendered with %s', (name) => {
  const objects = (): K8sObject[] => rendered[name]!;

  it('renders a tally.yaml that Tally itself loads, secret files included, from where the pod has it', async () => {
    const config = await loadPodConfig(objects());
    expect(config.app.stateDir).toBe(renderedConfig(objects())['app']['stateDir']);
  });

  it('mounts the state volume at exactly app.stateDir of the rendered config', () => {
    const statefulSet = statefulSetOf(objects());
    const claimNames = statefulSet['spec']['volumeClaimTemplates'].map((claim: K8sObject) => claim['metadata']['name']);
    const stateMounts = containerOf(objects())['volumeMounts'].filter((mount: K8sObject) => claimNames.includes(mount['name']));
    expect(stateMounts).toHaveLength(1);
    expect(stateMounts[0]['mountPath']).toBe(renderedConfig(objects())['app']['stateDir']);
    expect(stateMounts[0]['readOnly']).not.toBe(true);
  });

  it('runs tally run with the config mounted at the --config path, and every secret file the config names mounted where it points', async () => {
    const container = containerOf(objects());
    expect(container['command']).toEqual(['tally']);
    expect(container['args'].slice(0, 2)).toEqual(['run', '--config']);
    const config = await loadPodConfig(objects());
    const secrets = name === 'all features' ? parse(readFileSync(allFeaturesValues, 'utf8'))['secrets'] : undefined;
    if (secrets === undefined) {
      expect(config.http.tokens).toEqual([]);
      expect(config.kafka.sasl).toBeUndefined();
      return;
    }
    expect(config.http.tokens).toEqual([secretFileContents(secrets.apiTokens.existingSecret, secrets.apiTokens.key).trim()]);
    expect(config.kafka.sasl).toMatchObject({ mechanism: 'scram-sha-512', password: secretFileContents(secrets.kafkaSasl.existingSecret, secrets.kafkaSasl.passwordKey).trim() });
    const tls = (key: string): string => secretFileContents(secrets.kafkaTls.existingSecret, key);
    expect(config.kafka.ssl).toEqual({ rejectUnauthorized: true, ca: tls(secrets.kafkaTls.caKey), cert: tls(secrets.kafkaTls.certKey), key: tls(secrets.kafkaTls.keyKey) });
    const tokensFile = resolve(dirname(configPathOf(objects())), renderedConfig(objects())['http']['tokensFile']);
    const tokensMount = container['volumeMounts'].find((mount: K8sObject) => tokensFile.startsWith(`${mount['mountPath']}/`));
    expect(tokensMount).toMatchObject({ name: 'api-tokens', readOnly: true });
  });

  it('advertises each pod by its stable DNS name under the headless service, for query forwarding', () => {
    const container = containerOf(objects());
    const headless = objects().find((o) => o['kind'] === 'Service' && o['spec']['clusterIP'] === 'None');
    const advertised: string = container['args'][container['args'].indexOf('--advertise') + 1];
    expect(advertised).toBe(`$(POD_NAME).${headless?.['metadata']['name']}.$(POD_NAMESPACE).svc:${renderedConfig(objects())['http']['port']}`);
    const env = Object.fromEntries(container['env'].map((e: K8sObject) => [e['name'], e['valueFrom']?.['fieldRef']?.['fieldPath']]));
    expect(env).toMatchObject({ POD_NAME: 'metadata.name', POD_NAMESPACE: 'metadata.namespace' });
  });

  it('probes /healthz for liveness and /readyz for readiness on the port the config listens on', () => {
    const container = containerOf(objects());
    const config = renderedConfig(objects());
    const httpPort = container['ports'].find((port: K8sObject) => port['name'] === 'http');
    expect(httpPort['containerPort']).toBe(config['http']['port']);
    expect(config['http']['host']).toBe('0.0.0.0');
    expect(container['livenessProbe']['httpGet']).toEqual({ path: '/healthz', port: 'http' });
    expect(container['readinessProbe']['httpGet']).toEqual({ path: '/readyz', port: 'http' });
    expect(container['startupProbe']['httpGet']).toEqual({ path: '/healthz', port: 'http' });
  });

  it('runs as non-root on a read-only root filesystem, with only volumes writable', () => {
    const pod = podOf(objects());
    const container = containerOf(objects());
    expect(pod['spec']['securityContext']).toMatchObject({ runAsNonRoot: true, fsGroup: expect.any(Number) });
    expect(container['securityContext']).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    const writable = container['volumeMounts'].filter((mount: K8sObject) => mount['readOnly'] !== true).map((mount: K8sObject) => mount['name']);
    expect(writable.sort()).toEqual(['state', 'tmp']);
    expect(pod['spec']['terminationGracePeriodSeconds']).toBeGreaterThanOrEqual(30);
  });

  it('names the headless Service in the StatefulSet, and both Services and the PodDisruptionBudget select its pods', () => {
    const statefulSet = statefulSetOf(objects());
    const headless = only(objects(), 'Service', (service) => service['spec']['clusterIP'] === 'None');
    const client = only(objects(), 'Service', (service) => service['spec']['clusterIP'] !== 'None');
    expect(statefulSet['spec']['serviceName']).toBe(headless['metadata']['name']);
    expect(selectsPods(objects(), headless['spec']['selector'])).toBe(true);
    expect(selectsPods(objects(), client['spec']['selector'])).toBe(true);
    expect(client['spec']['ports'][0]['targetPort']).toBe('http');
    const budget = only(objects(), 'PodDisruptionBudget');
    expect(selectsPods(objects(), budget['spec']['selector']['matchLabels'])).toBe(true);
    expect(selectsPods(objects(), statefulSet['spec']['selector']['matchLabels'])).toBe(true);
  });
});

describe('optional parts', () => {
  it('leaves out the ServiceMonitor and the dashboard by default', () => {
    const kinds = rendered['default values']!.map((object) => `${object['kind']}/${object['metadata']['name']}`);
    expect(kinds.sort()).toEqual(['ConfigMap/tally', 'PodDisruptionBudget/tally', 'Service/tally', 'Service/tally-headless', 'StatefulSet/tally']);
  });

  it('adds a ServiceMonitor that scrapes /metrics of every pod through the headless Service', () => {
    const objects = rendered['all features']!;
    const monitor = only(objects, 'ServiceMonitor');
    expect(monitor['apiVersion']).toBe('monitoring.coreos.com/v1');
    expect(monitor['spec']['endpoints']).toEqual([{ port: 'http', path: '/metrics', interval: '15s', scrapeTimeout: '10s' }]);
    const scraped = objects.filter((object) => object['kind'] === 'Service' && Object.entries(monitor['spec']['selector']['matchLabels']).every(([key, value]) => object['metadata']['labels'][key] === value));
    expect(scraped.map((service) => service['spec']['clusterIP'])).toEqual(['None']);
  });

  it('adds the Grafana dashboard ConfigMap from dashboards/tally.json with the sidecar label', () => {
    const dashboard = only(rendered['all features']!, 'ConfigMap', (object) => object['data']?.['tally.json'] !== undefined);
    expect(dashboard['metadata']['labels']['grafana_dashboard']).toBe('1');
    expect(JSON.parse(dashboard['data']['tally.json'])).toEqual(JSON.parse(readFileSync(join(chart, 'dashboards/tally.json'), 'utf8')));
  });

  it('ships dashboards/tally.json in the chart itself', () => {
    expect(existsSync(dashboardSource), `${dashboardSource} is missing: the dashboard ConfigMap needs it`).toBe(true);
    expect(() => JSON.parse(readFileSync(dashboardSource, 'utf8'))).not.toThrow();
  });
});

describe('changes and bad values', () => {
  const checksum = (objects: K8sObject[]): string => podOf(objects)['metadata']['annotations']['checksum/config'];

  it('rolls the pods when the config changes, and only then', () => {
    const changed = renderChart(chart, { set: ['config.app.commitIntervalMs=500'] });
    expect(renderedConfig(changed)['app']['commitIntervalMs']).toBe(500);
    expect(checksum(changed)).not.toBe(checksum(rendered['default values']!));
    expect(checksum(renderChart(chart, { set: ['replicas=5'] }))).toBe(checksum(rendered['default values']!));
  });

  it('refuses a value of the wrong type or an unknown key with a schema error naming it', () => {
    expect(renderError(chart, { set: ['replicas=three'] })).toContain("at '/replicas': got string, want integer");
    expect(renderError(chart, { set: ['replica=3'] })).toMatch(/additional properties 'replica' not allowed/);
  });

  it('refuses secrets and chart-controlled fields in config, saying what to set instead', () => {
    expect(renderError(chart, { set: ['config.http.tokens={abc}'] })).toContain(
      'config.http.tokens is set by the chart; put the tokens in a Secret and set secrets.apiTokens.existingSecret (secrets never go in values)',
    );
    expect(renderError(chart, { set: ['config.kafka.sasl.mechanism=plain', 'config.kafka.sasl.password=hunter2'] })).toContain('config.kafka.sasl.password is set by the chart; put the password in a Secret');
    expect(renderError(chart, { set: ['config.app.stateDir=/elsewhere'] })).toContain('config.app.stateDir is set by the chart; set persistence.mountPath instead');
    expect(renderError(chart, { set: ['secrets.kafkaSasl.existingSecret=sasl'] })).toContain('config.kafka.sasl.mechanism is not; set config.kafka.sasl.mechanism');
  });
});
