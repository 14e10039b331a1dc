/**
 * Meters compiled once from config: JSONPaths compiled, aggregations looked
 * up, meters indexed by event type. Shared by ingest (validation) and the
 * meter aggregate (value and group-by extraction), so both read values the
 * same way.
 */
import type { AggregationName, MeterConfig } from '../schemas/config-types.js';
import { compileJsonPath, type CompiledJsonPath } from '../schemas/json-path.js';
import { aggregationFor, needsNumericValue, type Aggregation } from './aggregations/index.js';
import { canonicalDecimal, Decimal, parseNumericValue } from './decimal.js';
import { meterStoreName } from './meter-keys.js';

export interface MeterPlan {
  readonly slug: string;
  readonly aggregationName: AggregationName;
  readonly aggregation: Aggregation<unknown>;
  /** The meter's window store. */
  readonly storeName: string;
  /** Absent for COUNT. */
  readonly valuePath: CompiledJsonPath | undefined;
  /** Group-by names (sorted) with their compiled paths. */
  readonly groupBy: readonly (readonly [string, CompiledJsonPath])[];
  /**
   * The group-by in the order of its canonical JSON (`canonicalGroupBy`: an
   * object's order, integer-like names first), each with the JSON text
   * before its value (`{"name":` or `,"name":`).
   */
  readonly groupByJson: readonly (readonly [string, CompiledJsonPath])[];
}

export type MeterValue = { readonly ok: true; readonly value: string | undefined } | { readonly ok: false; readonly problem: string };

export interface MeterPlans {
  readonly all: readonly MeterPlan[];
  /** Meters by `eventType`; an event type with no meter is absent. */
  readonly byEventType: ReadonlyMap<string, readonly MeterPlan[]>;
}

export function compileMeterPlans(meters: readonly MeterConfig[]): MeterPlans {
  const all = meters.map(compileMeterPlan);
  const byEventType = new Map<string, MeterPlan[]>();
  meters.forEach((meter, index) => {
    const plans = byEventType.get(meter.eventType);
    if (plans === undefined) byEventType.set(meter.eventType, [all[index] as MeterPlan]);
    else plans.push(all[index] as MeterPlan);
  });
  return { all, byEventType };
}

function compileMeterPlan(meter: MeterConfig): MeterPlan {
  const groupBy = Object.keys(meter.groupBy)
    .sort()
    .map((name) => [name, compileJsonPath(meter.groupBy[name] as string)] as const);
  // The canonical JSON's order is an object's: the sorted names, integer-like ones first.
  const inObjectOrder: Record<string, CompiledJsonPath> = {};
  for (const [name, path] of groupBy) inObjectOrder[name] = path;
  return {
    slug: meter.slug,
    aggregationName: meter.aggregation,
    aggregation: aggregationFor(meter.aggregation),
    storeName: meterStoreName(meter.slug),
    valuePath: meter.valueProperty === undefined || meter.aggregation === 'COUNT' ? undefined : compileJsonPath(meter.valueProperty),
    groupBy,
    groupByJson: Object.entries(inObjectOrder).map(([name, path], index) => [`${index === 0 ? '{' : ','}${JSON.stringify(name)}:`, path] as const),
  };
}

/**
 * The meter's value in `data`: a canonical decimal string for numeric
 * aggregations; for UNIQUE_COUNT a string as is, a finite number in canonical
 * form, or a boolean as "true"/"false"; undefined for COUNT. Missing values,
 * null, objects and arrays are refused for every meter that has a valueProperty.
 */
export function readMeterValue(plan: MeterPlan, data: Readonly<Record<string, unknown>>): MeterValue {
  if (plan.valuePath === undefined) return { ok: true, value: undefined };
  const raw = plan.valuePath.get(data);
  if (needsNumericValue(plan.aggregationName)) {
    const parsed = parseNumericValue(raw);
    return parsed.ok ? parsed : { ok: false, problem: `${plan.valuePath.path} ${parsed.problem}` };
  }
  if (typeof raw === 'string') return { ok: true, value: raw };
  if (typeof raw === 'boolean') return { ok: true, value: String(raw) };
  if (typeof raw === 'number' && Number.isFinite(raw)) return { ok: true, value: canonicalDecimal(new Decimal(String(raw))) };
  const what = raw === undefined ? 'missing' : raw === null ? 'null' : Array.isArray(raw) ? 'an array' : 'an object';
  return { ok: false, problem: `${plan.valuePath.path} is ${what}; UNIQUE_COUNT needs a string, number or boolean` };
}

/**
 * Group-by values: a missing path (or null) is the empty string; strings as
 * is; numbers in canonical decimal form; booleans "true"/"false"; objects and
 * arrays as compact JSON.
 */
export function readGroupBy(plan: MeterPlan, data: Readonly<Record<string, unknown>>): Record<string, string> {
  const groupBy: Record<string, string> = {};
  for (const [name, path] of plan.groupBy) groupBy[name] = groupByText(path.get(data));
  return groupBy;
}

/** `canonicalGroupBy(readGroupBy(plan, data))`, without building either object. */
export function readGroupByJson(plan: MeterPlan, data: Readonly<Record<string, unknown>>): string {
  const parts = plan.groupByJson;
  if (parts.length === 0) return '{}';
  let json = '';
  for (let index = 0; index < parts.length; index++) {
    const [prefix, path] = parts[index] as readonly [string, CompiledJsonPath];
    json += prefix + JSON.stringify(groupByText(path.get(data)));
  }
  return json + '}';
}

/** One group-by value in `data`, as `readGroupBy` gives it. */
export function readGroupByValue(path: CompiledJsonPath, data: Readonly<Record<string, unknown>>): string {
  return groupByText(path.get(data));
}

function groupByText(raw: unknown): string {
  if (typeof raw === 'string') return raw;
  if (raw === undefined || raw === null) return '';
  if (typeof raw === 'number') return Number.isFinite(raw) ? canonicalDecimal(new Decimal(String(raw))) : String(raw);
  if (typeof raw === 'boolean') return String(raw);
  return JSON.stringify(raw);
}
