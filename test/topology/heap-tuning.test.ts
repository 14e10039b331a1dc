/**
 * Both runtimes turn V8's allocation-site pretenuring off when they are
 * created (topology/internal/heap-tuning.ts), once per process: with it,
 * Node's shared Buffer sites were pretenured and every fetched record's
 * views were born in the old generation.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';

const setFlagsFromString = vi.fn<(flags: string) => void>();
vi.mock('node:v8', async (importOriginal) => ({ ...(await importOriginal<typeof import('node:v8')>()), setFlagsFromString }));

beforeEach(() => {
  setFlagsFromString.mockClear();
  vi.resetModules();
});

async function topology() {
  const { StreamsBuilder } = await import('../../topology/index.js');
  const builder = new StreamsBuilder();
  builder.stream('in').to('out');
  return builder.build();
}

describe('heap tuning', () => {
  it('turns pretenuring off once, however often it is asked', async () => {
    const { tuneHeapForStreaming } = await import('../../topology/internal/heap-tuning.js');
    tuneHeapForStreaming();
    tuneHeapForStreaming();
    expect(setFlagsFromString.mock.calls).toEqual([['--no-allocation-site-pretenuring']]);
  });

  it('is applied by the test driver', async () => {
    const { TopologyTestDriver } = await import('../../topology/index.js');
    const driver = await TopologyTestDriver.create(await topology());
    try {
      expect(setFlagsFromString).toHaveBeenCalledWith('--no-allocation-site-pretenuring');
    } finally {
      await driver.close();
    }
  });

  it('is applied by the Kafka app when it is created, before it connects', async () => {
    const { createApp } = await import('../../topology/kafka/index.js');
    expect(setFlagsFromString).not.toHaveBeenCalled();
    createApp(await topology(), { applicationId: 'heap-tuning', brokers: ['127.0.0.1:1'], stateDir: '/tmp/tally-heap-tuning-unused' });
    expect(setFlagsFromString).toHaveBeenCalledWith('--no-allocation-site-pretenuring');
  });
});
