/** Tier bounds shared by the graduated and volume models. */
import type { Tier } from '../../../schemas/config-types.js';
import type { Arithmetic } from './arithmetic.js';

export interface TierBounds<N> {
  readonly tier: Tier;
  /** 1-based position, for the line label. */
  readonly number: number;
  /** Units above this belong to the tier (exclusive); 0 for the first tier. */
  readonly from: N;
  /** Up to and including this; undefined for the open last tier. */
  readonly to: N | undefined;
}

/** Bounds made per arithmetic and tier list: a plan's tiers are rated again with every change of usage. */
const made = new WeakMap<Arithmetic<unknown>, WeakMap<readonly Tier[], readonly TierBounds<unknown>[]>>();

/** Each tier with its (from, to] bounds in units. */
export function tierBounds<N>(arithmetic: Arithmetic<N>, tiers: readonly Tier[]): readonly TierBounds<N>[] {
  let byTiers = made.get(arithmetic);
  if (byTiers === undefined) made.set(arithmetic, (byTiers = new WeakMap()));
  const known = byTiers.get(tiers);
  if (known !== undefined) return known as readonly TierBounds<N>[];
  let from = arithmetic.of(0);
  const bounds = tiers.map((tier, index): TierBounds<N> => {
    const to = tier.upTo === undefined ? undefined : arithmetic.of(tier.upTo);
    const bound: TierBounds<N> = { tier, number: index + 1, from, to };
    if (to !== undefined) from = to;
    return bound;
  });
  byTiers.set(tiers, bounds);
  return bounds;
}

/** The line label and bounds of a tier: `tier 2`, from "10", to "20" (absent on the open tier). */
export function tierLineHead<N>(arithmetic: Arithmetic<N>, bounds: TierBounds<N>): { label: string; from: string; to?: string } {
  return { label: `tier ${bounds.number}`, from: arithmetic.text(bounds.from), ...(bounds.to === undefined ? {} : { to: arithmetic.text(bounds.to) }) };
}
