/** Tier bounds shared by the graduated and volume models. */
import type { Tier } from '../../../schemas/config-types.js';
import { Decimal } from '../../decimal.js';

export interface TierBounds {
  readonly tier: Tier;
  /** 1-based position, for the line label. */
  readonly number: number;
  /** Units above this belong to the tier (exclusive); 0 for the first tier. */
  readonly from: Decimal;
  /** Up to and including this; undefined for the open last tier. */
  readonly to: Decimal | undefined;
}

/** Each tier with its (from, to] bounds in units. */
export function tierBounds(tiers: readonly Tier[]): TierBounds[] {
  let from = new Decimal(0);
  return tiers.map((tier, index) => {
    const to = tier.upTo === undefined ? undefined : new Decimal(tier.upTo);
    const bounds: TierBounds = { tier, number: index + 1, from, to };
    if (to !== undefined) from = to;
    return bounds;
  });
}

/** The line label and bounds of a tier: `tier 2`, from "10", to "20" (absent on the open tier). */
export function tierLineHead(bounds: TierBounds): { label: string; from: string; to?: string } {
  return { label: `tier ${bounds.number}`, from: bounds.from.toFixed(), ...(bounds.to === undefined ? {} : { to: bounds.to.toFixed() }) };
}
