/**
 * Value on `tally-customers` (compacted, key = one subject the customer owns;
 * a customer with three subjects is three records with the same value). The
 * rating joins usage to it by subject. JSON; field names are the contract.
 */
import { DateTime } from 'luxon';
import type { CustomerConfig, SubscriptionConfig } from './config-types.js';
import { isIanaZone } from './time-zones.js';
import { currencyMinorUnits } from './currencies.js';
import { parseEntitlements } from './customer-entitlements.js';

/** The customer as configured (id, subjects, timezone, currency, billingAnchor, and plan or subscriptions with an optional cancelledAt), plus its plan history. Its `entitlements` are checked like the config's, except that their meters are not looked up. */
export interface CustomerRecord extends CustomerConfig {
  /**
   * The plan before `plan`. A period that started before `planChangedAt`
   * keeps it, so a plan change applies from the next period even when the
   * current one has seen no usage yet. Absent: `plan` has always applied.
   */
  readonly previousPlan?: string;
  /** When `plan` replaced `previousPlan`, ISO-8601 instant. */
  readonly planChangedAt?: string;
}

export type CustomerRecordParse = { readonly ok: true; readonly record: CustomerRecord } | { readonly ok: false; readonly problem: string };

const isText = (value: unknown): value is string => typeof value === 'string' && value !== '';

/**
 * Checks a record read from the topic: the fields rating depends on must be
 * usable (a valid zone, a known currency, a real anchor date). Unknown extra
 * fields are kept out of the result.
 */
export function parseCustomerRecord(value: unknown): CustomerRecordParse {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, problem: 'is not a JSON object' };
  const v = value as Record<string, unknown>;
  for (const field of ['id', 'timezone', 'currency', 'billingAnchor'] as const) {
    if (!isText(v[field])) return { ok: false, problem: `${field} is missing or not a non-empty string` };
  }
  const subscriptions = parseSubscriptions(v);
  if (typeof subscriptions === 'string') return { ok: false, problem: subscriptions };
  const subjects = v['subjects'];
  if (!Array.isArray(subjects) || !subjects.every(isText)) return { ok: false, problem: 'subjects is not a list of non-empty strings' };
  const record = v as unknown as CustomerRecord;
  if (!isIanaZone(record.timezone)) return { ok: false, problem: `timezone ${JSON.stringify(record.timezone)} is not an IANA zone` };
  if (currencyMinorUnits(record.currency) === undefined) return { ok: false, problem: `currency ${JSON.stringify(record.currency)} is not a supported ISO 4217 code` };
  if (!/^\d{4}-\d{2}-\d{2}$/.test(record.billingAnchor) || !DateTime.fromISO(record.billingAnchor, { zone: 'UTC' }).isValid) {
    return { ok: false, problem: `billingAnchor ${JSON.stringify(record.billingAnchor)} is not a YYYY-MM-DD date` };
  }
  if (v['previousPlan'] !== undefined && !isText(v['previousPlan'])) return { ok: false, problem: 'previousPlan is not a non-empty string' };
  const changedAt = v['planChangedAt'];
  if (changedAt !== undefined && !(isText(changedAt) && Number.isFinite(Date.parse(changedAt)))) return { ok: false, problem: 'planChangedAt is not an ISO-8601 instant' };
  const entitlements = v['entitlements'] === undefined ? undefined : parseEntitlements(v['entitlements']);
  if (typeof entitlements === 'string') return { ok: false, problem: entitlements };
  return {
    ok: true,
    record: {
      id: record.id,
      subjects: [...record.subjects],
      timezone: record.timezone,
      currency: record.currency,
      billingAnchor: record.billingAnchor,
      ...subscriptions,
      ...(record.previousPlan === undefined ? {} : { previousPlan: record.previousPlan }),
      ...(record.planChangedAt === undefined ? {} : { planChangedAt: record.planChangedAt }),
      ...(entitlements === undefined ? {} : { entitlements }),
    },
  };
}

const isInstant = (value: unknown): value is string => isText(value) && /(Z|[+-]\d{2}:\d{2})$/.test(value) && Number.isFinite(Date.parse(value));

type PlanFields = Pick<CustomerRecord, 'plan' | 'subscriptions' | 'cancelledAt'>;

/** Exactly one of `plan` and `subscriptions` (ordered by `from`), and `cancelledAt` only with subscriptions; a problem as a string. */
function parseSubscriptions(v: Record<string, unknown>): PlanFields | string {
  const list = v['subscriptions'];
  if (list === undefined) {
    if (!isText(v['plan'])) return 'plan is missing or not a non-empty string (give plan or subscriptions)';
    if (v['cancelledAt'] !== undefined) return 'cancelledAt is only allowed with subscriptions';
    return { plan: v['plan'] };
  }
  if (v['plan'] !== undefined) return 'has both plan and subscriptions; give one of them';
  if (!Array.isArray(list) || list.length === 0) return 'subscriptions is not a non-empty list';
  const subscriptions: SubscriptionConfig[] = [];
  for (const [index, item] of list.entries()) {
    const entry = item as Record<string, unknown> | null;
    if (typeof entry !== 'object' || entry === null || !isText(entry['plan']) || !isInstant(entry['from'])) {
      return `subscriptions[${index}] is not { plan, from } with from an RFC 3339 instant`;
    }
    const previous = subscriptions[index - 1];
    if (previous !== undefined && Date.parse(entry['from']) <= Date.parse(previous.from)) return `subscriptions[${index}].from is not after subscriptions[${index - 1}].from`;
    subscriptions.push({ plan: entry['plan'], from: entry['from'] });
  }
  const cancelledAt = v['cancelledAt'];
  if (cancelledAt === undefined) return { subscriptions };
  if (!isInstant(cancelledAt)) return 'cancelledAt is not an RFC 3339 instant';
  return { subscriptions, cancelledAt };
}
