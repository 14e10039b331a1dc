/**
 * Tally's meters as OpenMeter's `Meter` objects (`GET /api/v1/meters`): they
 * come from the config, so they are read-only, and each has a stable id
 * derived from the app id and the slug — the same on every instance and
 * after every restart, shaped like OpenMeter's ULIDs.
 */
import { createHash } from 'node:crypto';
import type { MeterConfig, TallyConfig } from '../../schemas/index.js';

/** The fields OpenMeter's `Meter` schema has that Tally can fill. */
export interface OpenMeterMeter {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  readonly aggregation: MeterConfig['aggregation'];
  readonly eventType: string;
  readonly valueProperty?: string;
  readonly groupBy?: Readonly<Record<string, string>>;
  /** When the service loaded its config (the meters are as old as that, as far as it knows). */
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Crockford's base 32, the alphabet of ULIDs. */
const crockford = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A 26-character ULID-shaped id (first character 0–7, as OpenMeter's pattern wants) from SHA-256 of app id and slug. */
export function meterId(appId: string, slug: string): string {
  const digest = createHash('sha256').update(`${appId}\u0000${slug}`).digest();
  let id = crockford[(digest[0] as number) & 7] as string;
  for (let i = 1; i < 26; i++) id += crockford[(digest[i] as number) & 31];
  return id;
}

export function openMeterMeters(config: Pick<TallyConfig, 'app' | 'meters'>, loadedAt: string): OpenMeterMeter[] {
  return config.meters.map((meter) => ({
    id: meterId(config.app.id, meter.slug),
    slug: meter.slug,
    name: meter.slug,
    aggregation: meter.aggregation,
    eventType: meter.eventType,
    ...(meter.valueProperty === undefined ? {} : { valueProperty: meter.valueProperty }),
    ...(Object.keys(meter.groupBy).length === 0 ? {} : { groupBy: meter.groupBy }),
    createdAt: loadedAt,
    updatedAt: loadedAt,
  }));
}

/** The meter with this id or slug, or undefined. */
export function findOpenMeterMeter(meters: readonly OpenMeterMeter[], idOrSlug: string): OpenMeterMeter | undefined {
  return meters.find((meter) => meter.slug === idOrSlug || meter.id === idOrSlug);
}
