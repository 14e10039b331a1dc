/**
 * Where the demo runs: the cluster from `--brokers` or `--config`, or — when
 * no Kafka is configured — a local single-node broker and (for Avro) a local
 * Apicurio Registry, started from the project's own launchers and stopped
 * again by `stop()`.
 */
import { loadConfig } from '../../schemas/config.js';
import { startLocalKafka, type LocalKafka } from '../local-cluster/local-kafka.js';
import { startLocalRegistry, type LocalRegistry } from '../local-cluster/local-registry.js';

export interface DemoClusterOptions {
  /** `--brokers`: an existing cluster. */
  readonly brokers?: readonly string[];
  /** `--config`: its kafka section (and schemaRegistry) are used. */
  readonly configPath?: string;
  /** Use Avro: start a local registry with a local broker; use the config's registry otherwise. */
  readonly avro: boolean;
  /** Progress messages (downloads, starts). */
  readonly say: (line: string) => void;
}

export interface DemoCluster {
  readonly brokers: readonly string[];
  /** ssl, sasl, clientId from the user's config, passed through. */
  readonly kafkaExtras: Readonly<Record<string, unknown>>;
  readonly registryUrl: string | undefined;
  /** True when the demo started the broker itself (its topics go with it). */
  readonly embedded: boolean;
  /** Stops what the demo started (registry, then broker). Idempotent. */
  stop(): Promise<void>;
}

async function configuredCluster(options: DemoClusterOptions): Promise<DemoCluster> {
  const config = options.configPath === undefined ? undefined : await loadConfig(options.configPath);
  const { brokers: configBrokers = [], ...kafkaExtras } = config?.kafka ?? {};
  const registryUrl = options.avro ? config?.schemaRegistry?.url : undefined;
  return { brokers: options.brokers ?? configBrokers, kafkaExtras, registryUrl, embedded: false, stop: async () => undefined };
}

async function embeddedCluster(options: DemoClusterOptions): Promise<DemoCluster> {
  const say = options.say;
  say(options.avro ? 'No Kafka configured: starting a local Kafka broker and schema registry (the first run downloads them with Maven)' : 'No Kafka configured: starting a local Kafka broker (the first run downloads it with Maven)');
  const [kafka, registry] = await Promise.allSettled([
    startLocalKafka({ onProgress: (m) => say(`[kafka] ${m}`) }),
    options.avro ? startLocalRegistry({ onProgress: (m) => say(`[registry] ${m}`) }) : Promise.resolve(undefined),
  ]);
  const started: (LocalKafka | LocalRegistry)[] = [];
  if (kafka.status === 'fulfilled') started.push(kafka.value);
  if (registry.status === 'fulfilled' && registry.value !== undefined) started.push(registry.value);
  const failed = [kafka, registry].find((r): r is PromiseRejectedResult => r.status === 'rejected');
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      for (const process of started.reverse()) await process.stop();
    })());
  if (failed !== undefined || kafka.status !== 'fulfilled') {
    await stop();
    const message = failed?.reason instanceof Error ? failed.reason.message : String(failed?.reason);
    throw new Error(`${message}\nTo use a Kafka you already run instead: tally demo --brokers HOST:PORT${options.avro ? ' (add --no-avro to skip the schema registry)' : ''}`, { cause: failed?.reason });
  }
  const registryUrl = registry.status === 'fulfilled' ? registry.value?.url : undefined;
  return { brokers: kafka.value.brokers, kafkaExtras: {}, registryUrl, embedded: true, stop };
}

/** Connects to the configured cluster, or starts a local one. */
export function startDemoCluster(options: DemoClusterOptions): Promise<DemoCluster> {
  return options.brokers !== undefined || options.configPath !== undefined ? configuredCluster(options) : embeddedCluster(options);
}
