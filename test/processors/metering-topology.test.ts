import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../schemas/index.js';
import { buildMeteringTopology, eventsBySubjectTopic } from '../../processors/index.js';
import { meteringConfig, minuteMs } from './metering-harness.js';

describe('buildMeteringTopology', () => {
  it('has stable node, store and topic names, split by the repartition topic', () => {
    const topology = buildMeteringTopology(meteringConfig());
    expect(topology.describe()).toBe(
      [
        'Sub-topology: 0',
        '  Source: usage-events-source (topics: [usage-events]) --> ingest-events',
        '  Processor: ingest-events (stores: []) --> dead-letter-sink, events-by-subject-sink <-- usage-events-source',
        '  Sink: dead-letter-sink (topic: tally-dead-letter) <-- ingest-events',
        '  Sink: events-by-subject-sink (topic: events-by-subject-repartition) <-- ingest-events',
        'Sub-topology: 1',
        '  Source: events-by-subject-source (topics: [events-by-subject-repartition]) --> dedupe-events',
        '  Processor: dedupe-events (stores: [dedupe]) --> aggregate-meters <-- events-by-subject-source',
        '  Processor: aggregate-meters (stores: [meter-api_requests, meter-tokens, meter-close-state]) --> meters-sink, late-events-sink <-- dedupe-events',
        '  Sink: meters-sink (topic: tally-meters) <-- aggregate-meters',
        '  Sink: late-events-sink (topic: tally-late-events) <-- aggregate-meters',
      ].join('\n'),
    );
    expect([...topology.internalTopics.keys()]).toEqual([eventsBySubjectTopic]);
    expect([...topology.stores.values()].map((s) => [s.name, s.kind, s.logging, s.retentionMs])).toEqual([
      ['dedupe', 'window', true, 90 * minuteMs],
      ['meter-api_requests', 'window', true, 60 * minuteMs],
      ['meter-tokens', 'window', true, 60 * minuteMs],
      ['meter-close-state', 'keyValue', true, undefined],
    ]);
  });

  it('runs in one sub-topology when the input is keyed by subject', () => {
    const topology = buildMeteringTopology(meteringConfig(), { keyedBySubject: true });
    expect(topology.subtopologies).toHaveLength(1);
    expect(topology.internalTopics.size).toBe(0);
  });

  it('refuses retentions shorter than a window plus its lateness, naming both', () => {
    const config = meteringConfig({ allowedLatenessMs: 60 * minuteMs, dedupeRetentionMs: 30 * minuteMs, retentionMs: 30 * minuteMs });
    expect(() => buildMeteringTopology(config)).toThrow(ConfigError);
    expect(() => buildMeteringTopology(config)).toThrow(/ingest\.dedupeRetention[\s\S]*windows\.retention/);
  });
});
