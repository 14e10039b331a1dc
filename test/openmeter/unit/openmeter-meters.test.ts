/** The config's meters as OpenMeter's Meter objects, with ids that never change for an app and slug. */
import { describe, expect, it } from 'vitest';
import { findOpenMeterMeter, meterId, openMeterMeters } from '../../../service/openmeter/openmeter-meters.js';
import { configWith, minuteMs } from '../../processors/query-fixtures.js';

describe('openMeterMeters', () => {
  const config = configWith(minuteMs);
  const meters = openMeterMeters(config, '2024-01-01T00:00:00.000Z');

  it('gives each meter a ULID-shaped id from app id and slug, the same every time, another for another app', () => {
    for (const meter of meters) expect(meter.id).toMatch(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
    expect(new Set(meters.map((m) => m.id)).size).toBe(meters.length);
    expect(meterId('tally', 'tokens')).toBe(meterId('tally', 'tokens'));
    expect(meterId('other-app', 'tokens')).not.toBe(meterId('tally', 'tokens'));
  });

  it('carries slug, aggregation, event type, value property and group-by as OpenMeter names them', () => {
    expect(meters.find((m) => m.slug === 'requests')).toEqual({
      id: meterId('tally', 'requests'),
      slug: 'requests',
      name: 'requests',
      aggregation: 'COUNT',
      eventType: 'api.request',
      groupBy: { route: '$.route', method: '$.method' },
      createdAt: '2024-01-01T00:00:00.000Z',
      updatedAt: '2024-01-01T00:00:00.000Z',
    });
    expect(meters.find((m) => m.slug === 'tokens')).toMatchObject({ valueProperty: '$.tokens' });
    expect(meters.find((m) => m.slug === 'tokens')).not.toHaveProperty('groupBy');
  });

  it('finds a meter by slug or by id', () => {
    expect(findOpenMeterMeter(meters, 'tokens')?.slug).toBe('tokens');
    expect(findOpenMeterMeter(meters, meterId('tally', 'tokens'))?.slug).toBe('tokens');
    expect(findOpenMeterMeter(meters, 'nope')).toBeUndefined();
  });
});
