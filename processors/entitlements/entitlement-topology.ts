/**
 * Wires entitlements beside rating, on the usage already keyed by customer
 * (docs/entitlements.md), with stable names:
 *
 * ```
 * usage-by-customer-source ─┬─▶ rate-usage …                     (see rating-topology.ts)
 *                           └─▶ track-entitlements [entitlement-usage, entitlement-terms]
 *                                  ├─▶ entitlements-sink         (tally-entitlements)
 *                                  └─▶ alerts-sink               (tally-alerts)
 * ```
 *
 * Both read the same records in the same task, so an entitlement's usage and
 * the billing details of its period come from the same deltas.
 */
import type { TallyConfig } from '../../schemas/config-types.js';
import type { AlertRecord, EntitlementRecord } from '../../schemas/entitlement.js';
import { jsonSerde, stringSerde } from '../../schemas/serde.js';
import type { TopologyBuilder } from '../../topology/index.js';
import { ratingNodes, type RatingCounters } from '../rating/index.js';
import { entitlementProcessor } from './entitlement-processor.js';
import { entitlementStoreSpecs } from './entitlement-stores.js';

/** Node names: stable, because store and topic names derive from them. */
export const entitlementNodes = {
  track: 'track-entitlements',
  entitlementsSink: 'entitlements-sink',
  alertsSink: 'alerts-sink',
} as const;

/**
 * Meters some configured entitlement counts. Their deltas must reach the
 * customers join even when no plan charges them.
 */
export function entitlementMeters(config: Pick<TallyConfig, 'customers'>): Set<string> {
  return new Set(config.customers.flatMap((customer) => (customer.entitlements ?? []).map((entitlement) => entitlement.meter)));
}

/** Adds entitlement tracking under rating's repartition source (`addRatingNodes` must have run). */
export function addEntitlementNodes(builder: TopologyBuilder, wiring: { readonly config: TallyConfig; readonly ratingCounters: RatingCounters }): void {
  const { config, ratingCounters } = wiring;
  const nodes = entitlementNodes;
  builder.addProcessor(nodes.track, entitlementProcessor({ entitlementsChild: nodes.entitlementsSink, alertsChild: nodes.alertsSink, ratingCounters }), [ratingNodes.repartitionSource]);
  for (const spec of entitlementStoreSpecs()) builder.addStateStore(spec, nodes.track);
  builder.addSink(nodes.entitlementsSink, config.topics.entitlements, [nodes.track], { keySerde: stringSerde, valueSerde: jsonSerde<EntitlementRecord>() });
  builder.addSink(nodes.alertsSink, config.topics.alerts, [nodes.track], { keySerde: stringSerde, valueSerde: jsonSerde<AlertRecord>() });
}
