/**
 * Rules that span sections of `tally.yaml`: retention against lateness,
 * references between customers, plans and meters, and which meters a charge
 * can price. Each runs on the best-effort parse (absent = already reported).
 */
import type { AggregationName, ChargeConfig, ChargeFilter, CustomerConfig, EntitlementConfig, MeterConfig, PlanConfig, TallyConfig } from './config-types.js';
import { formatDurationMs } from './duration.js';
import type { ParseContext } from './internal/config-dsl.js';
import { didYouMean } from './internal/did-you-mean.js';

/** A best-effort parse: any key may be absent, any list item may be a hole. */
type Loose<T> = T extends readonly (infer U)[] ? readonly (Loose<U> | undefined)[] : T extends object ? { readonly [K in keyof T]?: Loose<T[K]> } : T;
type LooseConfig = Loose<TallyConfig>;

export interface ConfigRule {
  /** One sentence for the reference. */
  readonly description: string;
  check(config: LooseConfig, ctx: ParseContext): void;
}

/** Aggregations a charge can price, and why the others cannot be. */
const RATEABLE: Readonly<Record<AggregationName, string | undefined>> = {
  COUNT: undefined,
  SUM: undefined,
  LATEST: undefined,
  MAX: undefined,
  UNIQUE_COUNT: undefined,
  AVG: 'an average is not a quantity of usage: it does not add up over a period, and pricing it would bill the same for 1 event as for 1,000,000; meter the total with SUM (or COUNT) and price that',
  MIN: 'a minimum is not a quantity of usage to bill; price a SUM, COUNT, MAX, LATEST or UNIQUE_COUNT meter instead',
};

function retentionRule(section: 'ingest' | 'windows', key: 'dedupeRetention' | 'retention', why: string): ConfigRule {
  return {
    description: `${section}.${key} is at least windows.size + ingest.allowedLateness (${why}).`,
    check(config, ctx) {
      const sizeMs = config.windows?.sizeMs;
      const latenessMs = config.ingest?.allowedLatenessMs;
      const retentionMs = section === 'ingest' ? config.ingest?.dedupeRetentionMs : config.windows?.retentionMs;
      if (sizeMs === undefined || latenessMs === undefined || retentionMs === undefined) return;
      const minimumMs = sizeMs + latenessMs;
      if (retentionMs >= minimumMs) return;
      ctx.report(
        `${section}.${key}`,
        `${formatDurationMs(retentionMs)} is shorter than windows.size + ingest.allowedLateness (${formatDurationMs(minimumMs)}); ` +
          `make it at least ${formatDurationMs(minimumMs)} (${why})`,
      );
    },
  };
}

function eachCharge(config: LooseConfig, visit: (charge: Loose<ChargeConfig>, path: string) => void): void {
  config.plans?.forEach((plan: Loose<PlanConfig> | undefined, planIndex) =>
    plan?.charges?.forEach((charge, chargeIndex) => {
      if (charge !== undefined) visit(charge, `plans[${planIndex}].charges[${chargeIndex}]`);
    }),
  );
}

function metersBySlug(config: LooseConfig): Map<string, Loose<MeterConfig>> {
  const meters = new Map<string, Loose<MeterConfig>>();
  for (const meter of config.meters ?? []) if (meter?.slug !== undefined && !meters.has(meter.slug)) meters.set(meter.slug, meter);
  return meters;
}

const customerPlanExists: ConfigRule = {
  description: 'Every customer’s plan (and every subscription’s plan) is one of plans.',
  check(config, ctx) {
    const plans = new Set((config.plans ?? []).flatMap((plan) => (plan?.key === undefined ? [] : [plan.key])));
    const checkPlan = (plan: string | undefined, path: string): void => {
      if (plan === undefined || plans.has(plan)) return;
      const known = plans.size === 0 ? 'no plans are declared; add it under plans' : `declare it under plans or use one of ${[...plans].join(', ')}${didYouMean(plan, plans)}`;
      ctx.report(path, `unknown plan ${JSON.stringify(plan)}; ${known}`);
    };
    config.customers?.forEach((customer: Loose<CustomerConfig> | undefined, index) => {
      checkPlan(customer?.plan, `customers[${index}].plan`);
      customer?.subscriptions?.forEach((subscription, subscriptionIndex) => checkPlan(subscription?.plan, `customers[${index}].subscriptions[${subscriptionIndex}].plan`));
    });
  },
};

function eachEntitlement(config: LooseConfig, visit: (entitlement: Loose<EntitlementConfig>, path: string) => void): void {
  config.customers?.forEach((customer: Loose<CustomerConfig> | undefined, customerIndex) =>
    customer?.entitlements?.forEach((entitlement, index) => {
      if (entitlement !== undefined) visit(entitlement, `customers[${customerIndex}].entitlements[${index}]`);
    }),
  );
}

/** Reports each key of `filter` (at `path`) that is not a groupBy key of `meter`. */
function checkFilterKeys(filter: Loose<ChargeFilter> | undefined, meter: string | undefined, meters: Map<string, Loose<MeterConfig>>, path: string, ctx: ParseContext): void {
  const groupBy = meter === undefined ? undefined : meters.get(meter)?.groupBy;
  if (filter === undefined || groupBy === undefined) return;
  const keys = Object.keys(groupBy);
  for (const key of Object.keys(filter)) {
    if (keys.includes(key)) continue;
    const fix = keys.length === 0 ? `meter ${JSON.stringify(meter)} has no groupBy; add ${key} to its groupBy or remove the filter` : `use one of its groupBy keys: ${keys.join(', ')}${didYouMean(key, keys)}`;
    ctx.report(`${path}.filter.${key}`, `${JSON.stringify(key)} is not a groupBy key of meter ${JSON.stringify(meter)}; ${fix}`);
  }
}

const filterKeysGroupedBy: ConfigRule = {
  description: 'Every key of a charge’s or an entitlement’s filter is one of its meter’s groupBy keys.',
  check(config, ctx) {
    const meters = metersBySlug(config);
    eachCharge(config, (charge, path) => checkFilterKeys(charge.filter, charge.meter, meters, path, ctx));
    eachEntitlement(config, (entitlement, path) => checkFilterKeys(entitlement.filter, entitlement.meter, meters, path, ctx));
  },
};

/**
 * The aggregation of the meter `slug` (at `path`.meter) when it can be counted
 * for usage; otherwise reports why (unknown meter, AVG or MIN, saying what
 * `purpose` it cannot serve) and returns undefined.
 */
function countableAggregation(meters: Map<string, Loose<MeterConfig>>, slug: string | undefined, path: string, purpose: string, ctx: ParseContext): AggregationName | undefined {
  if (slug === undefined) return undefined;
  const meter = meters.get(slug);
  if (meter === undefined) {
    const slugs = [...meters.keys()];
    ctx.report(`${path}.meter`, `unknown meter ${JSON.stringify(slug)}; use one of ${slugs.join(', ')}${didYouMean(slug, slugs)}`);
    return undefined;
  }
  const aggregation = meter.aggregation;
  if (aggregation === undefined) return undefined;
  const why = RATEABLE[aggregation];
  if (why === undefined) return aggregation;
  const article = aggregation === 'AVG' ? 'an' : 'a';
  ctx.report(`${path}.meter`, `${JSON.stringify(slug)} is ${article} ${aggregation} meter, which cannot be ${purpose}: ${why}`);
  return undefined;
}

const entitlementMeterCountable: ConfigRule = {
  description: 'Every entitlement counts a declared meter whose aggregation is COUNT, SUM, LATEST, MAX or UNIQUE_COUNT.',
  check(config, ctx) {
    const meters = metersBySlug(config);
    eachEntitlement(config, (entitlement, path) => countableAggregation(meters, entitlement.meter, path, 'counted against a limit', ctx));
  },
};

const subjectOwnedOnce: ConfigRule = {
  description: 'A subject belongs to at most one customer.',
  check(config, ctx) {
    const owners = new Map<string, { id: string | undefined; path: string }>();
    config.customers?.forEach((customer, customerIndex) =>
      customer?.subjects?.forEach((subject, subjectIndex) => {
        if (subject === undefined) return;
        const path = `customers[${customerIndex}].subjects[${subjectIndex}]`;
        const owner = owners.get(subject);
        if (owner === undefined) owners.set(subject, { id: customer.id, path });
        else if (!owner.path.startsWith(`customers[${customerIndex}].`)) {
          ctx.report(path, `${JSON.stringify(subject)} already belongs to customer ${JSON.stringify(owner.id ?? '?')} (${owner.path}); a subject's usage is billed to one customer`);
        }
      }),
    );
  },
};

const chargeMeterRateable: ConfigRule = {
  description: 'Every charge prices a declared meter whose aggregation is COUNT, SUM, LATEST, MAX or UNIQUE_COUNT; time_of_day charges need SUM or COUNT.',
  check(config, ctx) {
    const meters = metersBySlug(config);
    eachCharge(config, (charge, path) => {
      const aggregation = countableAggregation(meters, charge.meter, path, 'charged for', ctx);
      if (aggregation === undefined) return;
      if (charge.model === 'time_of_day' && aggregation !== 'SUM' && aggregation !== 'COUNT') {
        ctx.report(
          `${path}.meter`,
          `${JSON.stringify(charge.meter)} is a ${aggregation} meter; time_of_day needs a SUM or COUNT meter (only usage that adds up can be split by the time of day it happened)`,
        );
      }
    });
  },
};

const intervalsOnWindowBoundaries: ConfigRule = {
  description: 'time_of_day interval boundaries fall on windows.size boundaries (prices apply per window).',
  check(config, ctx) {
    const sizeMs = config.windows?.sizeMs;
    if (sizeMs === undefined || sizeMs <= 0) return;
    eachCharge(config, (charge, path) =>
      charge.intervals?.forEach((interval, index) => {
        const from = interval?.from;
        if (from === undefined) return;
        const offsetMs = (Number(from.slice(0, 2)) * 60 + Number(from.slice(3, 5))) * 60_000;
        if (offsetMs % sizeMs === 0) return;
        ctx.report(
          `${path}.intervals[${index}].from`,
          `"${from}" is not on a windows.size (${formatDurationMs(sizeMs)}) boundary; usage is priced per window, so move it to a multiple of ${formatDurationMs(sizeMs)} or make windows.size smaller`,
        );
      }),
    );
  },
};

/** Rules run after every key has been parsed, in this order. */
export const configRules: readonly ConfigRule[] = Object.freeze([
  retentionRule('ingest', 'dedupeRetention', 'a late duplicate must still be recognised'),
  retentionRule('windows', 'retention', 'a window must be kept until it can no longer change'),
  customerPlanExists,
  subjectOwnedOnce,
  chargeMeterRateable,
  filterKeysGroupedBy,
  entitlementMeterCountable,
  intervalsOnWindowBoundaries,
]);

/** Runs every rule on a best-effort parse of the whole file. */
export function checkConfigRules(config: Readonly<Record<string, unknown>>, ctx: ParseContext): void {
  for (const rule of configRules) rule.check(config as LooseConfig, ctx);
}
