/**
 * `/readyz` through a Kafka outage, on a broker of the test's own
 * (`startLocalKafka()`): ready while the broker answers, 503 with the broker
 * error as the reason while it is stopped, ready again once it is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalKafka, type LocalKafka } from '../../cli/local-cluster/local-kafka.js';
import { parseConfig, type TallyConfig } from '../../schemas/index.js';
import { ensureTopics } from '../../service/topics/index.js';
import { tempStateDir, uniqueName } from '../kafka/kafka-helpers.js';
import { removeStateDir, runService, serviceDocument, untilAnswer, type RunningService } from './service-fixtures.js';

let local: LocalKafka;
let config: TallyConfig;
let running: RunningService | undefined;

beforeAll(async () => {
  local = await startLocalKafka({ onProgress: () => undefined });
  const document = { ...serviceDocument({ appId: uniqueName('readiness'), stateDir: await tempStateDir(), customers: [] }), kafka: { brokers: local.brokers } };
  config = parseConfig(JSON.stringify(document), 'readiness tally.yaml');
  await ensureTopics(config, { create: true, partitions: 1 });
}, 120_000);

afterAll(async () => {
  await running?.service.close();
  await local?.stop();
  if (config !== undefined) await removeStateDir(config);
});

describe('/readyz while Kafka is unreachable', () => {
  it('is 503 with the broker error as the reason while the broker is down, and 200 again once it is back', async () => {
    running = await runService(config);
    await running.service.ready;
    const api = running.api;
    expect(await api.get('/readyz', null)).toMatchObject({ status: 200, body: { ready: true } });

    await local.stopBroker();
    const down = await untilAnswer('/readyz to notice the broker is down', () => api.get('/readyz', null), (a) => a.status === 503);
    expect(down.body).toMatchObject({ ready: false, reason: expect.stringMatching(/^Kafka is unreachable: .*(ECONNREFUSED|Connection|connect|broker)/i) });
    // Liveness is another matter: the process is fine and must not be restarted for an outage.
    expect((await api.get('/healthz', null)).status).toBe(200);

    await local.startBroker();
    const back = await untilAnswer('/readyz to be ready again', () => api.get('/readyz', null), (a) => a.status === 200, 90_000);
    expect(back.body).toMatchObject({ ready: true });
  }, 180_000);
});
