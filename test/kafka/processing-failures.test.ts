/**
 * The runtime's backstop on Kafka: a record whose processing throws goes to
 * the dead-letter topic, and the app tells its own observer and logger —
 * not a process-wide counter or the console.
 */
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { jsonSerde, stringSerde, type DeadLetterRecord } from '../../schemas/index.js';
import { StreamsBuilder, processingFailureCount } from '../../topology/index.js';
import { createApp, type KafkaApp } from '../../topology/kafka/index.js';
import { brokers, createTopics, produce, readTopic, tempStateDir, uniqueName, waitFor } from './kafka-helpers.js';

let app: KafkaApp | undefined;
let stateDir: string | undefined;
afterEach(async () => {
  await app?.close();
  if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
  app = undefined;
  stateDir = undefined;
});

describe('a record whose processing throws, on Kafka', () => {
  it("goes to the dead-letter topic and is reported to the app's observer and logger", async () => {
    const [input, output, dlq] = [uniqueName('fragile-in'), uniqueName('fragile-out'), uniqueName('fragile-dlq')];
    const applicationId = uniqueName('fragile-app');
    await createTopics({ [input]: 1, [output]: 1, [dlq]: 1 });
    await produce(input, ['a', 'poison', 'b'].map((value, i) => ({ key: `k${i}`, value })));
    const builder = new StreamsBuilder();
    builder
      .stream(input, { valueSerde: stringSerde, deadLetterTopic: dlq })
      .mapValues((value) => {
        if (value === 'poison') throw new TypeError('cannot read "poison"');
        return value.toUpperCase();
      })
      .to(output, { valueSerde: stringSerde });
    const reported: [string, string][] = [];
    const warnings: string[] = [];
    stateDir = await tempStateDir();
    app = createApp(builder.build(), {
      applicationId,
      brokers: brokers(),
      stateDir,
      commitIntervalMs: 100,
      logger: { info: () => undefined, warn: (m) => warnings.push(m), error: (m) => console.error(m) },
      observer: { processingFailed: (taskId, message) => reported.push([taskId, message]) },
    });
    await app.start();
    await waitFor(`"A" and "B" in ${output}`, async () => (await readTopic(output)).length >= 2, 30_000);
    expect((await readTopic(output)).map((r) => r.value)).toEqual(['A', 'B']);
    const dead = await readTopic(dlq);
    expect(dead.map((r) => [r.key, jsonSerde<DeadLetterRecord>().deserialize(Buffer.from(r.value as string)).reason])).toEqual([['k1', 'processing-failed']]);
    expect(reported).toHaveLength(1);
    const [taskId, message] = reported[0] as [string, string];
    expect(taskId).toBe('0_0');
    expect(message).toMatch(new RegExp(`^task 0_0: processing ${input}-0@1 in node "[^"]+" failed: cannot read "poison"; the record went to ${dlq} \\(reason processing-failed\\)`));
    expect(warnings).toContain(message);
    expect(processingFailureCount(applicationId)).toBe(0);
  });
});
