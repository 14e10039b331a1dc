/**
 * A customer record's `entitlements` as read from the customers topic:
 * checked by the same rules as in `tally.yaml`, except those that need the
 * meters (an entitlement on a meter the config does not declare simply sees
 * no usage).
 */
import { Decimal } from 'decimal.js';
import type { ChargeFilter, EntitlementConfig } from './config-types.js';

const KEY = /^[A-Za-z0-9_-]+$/;
const LIMIT = /^[0-9]+(\.[0-9]+)?$/;

const isKey = (value: unknown): value is string => typeof value === 'string' && KEY.test(value);

function parseFilter(value: unknown): ChargeFilter | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const filter: Record<string, string | string[]> = {};
  for (const [key, wanted] of Object.entries(value)) {
    if (!KEY.test(key)) return undefined;
    if (typeof wanted === 'string') filter[key] = wanted;
    else if (Array.isArray(wanted) && wanted.every((item) => typeof item === 'string')) filter[key] = [...(wanted as string[])];
    else return undefined;
  }
  return filter;
}

/** Strictly increasing integers > 0. */
function isAlertList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((percent, index) => Number.isInteger(percent) && (percent as number) > 0 && (index === 0 || (percent as number) > (value[index - 1] as number)));
}

/** The entitlements of a customer record, or the problem with them as a string. */
export function parseEntitlements(value: unknown): EntitlementConfig[] | string {
  if (!Array.isArray(value)) return 'entitlements is not a list';
  const entitlements: EntitlementConfig[] = [];
  const keys = new Set<string>();
  for (const [index, item] of value.entries()) {
    const at = `entitlements[${index}]`;
    const entry = item as Record<string, unknown> | null;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return `${at} is not an object`;
    if (!isKey(entry['key'])) return `${at}.key is missing or not made of letters, digits, _ and -`;
    if (keys.has(entry['key'])) return `${at}.key ${JSON.stringify(entry['key'])} is a duplicate; entitlement keys are unique per customer`;
    if (!isKey(entry['meter'])) return `${at}.meter is missing or not a meter slug`;
    const limit = entry['limit'];
    if (typeof limit !== 'string' || !LIMIT.test(limit) || new Decimal(limit).isZero()) return `${at}.limit is not a decimal string greater than 0`;
    const alerts = entry['alerts'] ?? [];
    if (!isAlertList(alerts)) return `${at}.alerts is not a list of integer percents > 0 in increasing order`;
    const filter = entry['filter'] === undefined ? undefined : parseFilter(entry['filter']);
    if (entry['filter'] !== undefined && filter === undefined) return `${at}.filter is not { <groupBy key>: value | [values] }`;
    keys.add(entry['key']);
    entitlements.push({ key: entry['key'], meter: entry['meter'], ...(filter === undefined ? {} : { filter }), limit, alerts: [...alerts] });
  }
  return entitlements;
}
