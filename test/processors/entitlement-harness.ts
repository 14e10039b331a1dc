/**
 * Entitlement tests: the rating harness plus readers for the entitlements
 * and alerts topics, and a customer with entitlements on the rating meters.
 */
import type { AlertRecord, EntitlementRecord } from '../../schemas/entitlement.js';
import type { CustomerConfig, EntitlementConfig } from '../../schemas/config-types.js';
import { jsonSerde } from '../../schemas/index.js';
import { topics } from './metering-harness.js';
import { acme, type RatingHarness } from './rating-harness.js';

export const acmeWith = (...entitlements: EntitlementConfig[]): CustomerConfig => ({ ...acme, entitlements });

export interface EntitlementReaders {
  /** Entitlement records emitted since the last call. */
  entitlements(): EntitlementRecord[];
  /** Alerts emitted since the last call, with their keys. */
  alerts(): { key: string; value: AlertRecord }[];
}

export function entitlementReaders(h: RatingHarness): EntitlementReaders {
  const entitlements = h.driver.outputTopic<string, EntitlementRecord>(topics.entitlements, undefined, jsonSerde());
  const alerts = h.driver.outputTopic<string, AlertRecord>(topics.alerts, undefined, jsonSerde());
  return {
    entitlements: () => entitlements.readValues() as EntitlementRecord[],
    alerts: () => alerts.readRecords().map((record) => ({ key: record.key as string, value: record.value as AlertRecord })),
  };
}

/** `<entitlement> <periodStart date> u=<usage> rem=<remaining> over=<overage> <access|denied> r<revision>` */
export const briefEntitlement = (e: EntitlementRecord): string =>
  `${e.entitlement} ${e.periodStart.slice(0, 10)} u=${e.usage} rem=${e.remaining} over=${e.overage} ${e.hasAccess ? 'access' : 'denied'} r${e.revision}`;

/** `<entitlement> <threshold>% <periodStart date> u=<usage> at <crossedAt>` */
export const briefAlert = ({ value: a }: { value: AlertRecord }): string => `${a.entitlement} ${a.threshold}% ${a.periodStart.slice(0, 10)} u=${a.usage} at ${a.crossedAt}`;
