/**
 * A customer's `entitlements` in `tally.yaml` (docs/entitlements.md): usage
 * allowances per billing period on one meter, with alert thresholds in
 * percent of the limit. Rules that need the meters (the meter exists and can
 * be counted, filter keys are its groupBy keys) are in
 * `config-rules-entitlements.ts`.
 */
import { Decimal } from 'decimal.js';
import { list, map, record, type Check, type FieldSpec } from './internal/config-dsl.js';
import { integer, money, SLUG, slug, stringOrList } from './internal/config-scalars.js';

/** A positive limit, and alert percents in strictly increasing order (so each is unique). */
const checkEntitlement: Check = (entitlement, path, ctx) => {
  const limit = entitlement['limit'];
  if (typeof limit === 'string' && new Decimal(limit).isZero()) {
    ctx.report(`${path}.limit`, `"${limit}" must be greater than 0; a limit of 0 would deny all usage from the start — give the usage allowed per billing period, e.g. "1000"`);
  }
  const alerts = entitlement['alerts'] as readonly (number | undefined)[] | undefined;
  let previous: { percent: number; index: number } | undefined;
  alerts?.forEach((percent, index) => {
    if (percent === undefined) return;
    if (previous !== undefined && percent <= previous.percent) {
      const problem = percent === previous.percent ? `duplicates ${path}.alerts[${previous.index}]` : `must be greater than ${path}.alerts[${previous.index}] (${previous.percent})`;
      ctx.report(`${path}.alerts[${index}]`, `${percent} ${problem}; list alert percents once each, in increasing order, e.g. [80, 100]`);
    }
    previous = { percent, index };
  });
};

const entitlement = record(
  'entitlement',
  {
    key: { node: slug('entitlement key'), required: '(the entitlement name, unique within the customer, e.g. tokens-monthly)', description: 'Entitlement key, unique within its customer.' },
    meter: { node: slug('meter slug'), required: '(the slug of the meter whose usage counts against the limit)', description: 'Slug of the meter whose usage counts (COUNT, SUM, LATEST, MAX or UNIQUE_COUNT).' },
    filter: {
      node: map('filter', stringOrList(), SLUG, 'a filter key is one of the meter’s groupBy names'),
      description: 'Counts only usage whose group-by values match every entry: { <groupBy key>: value | [values] }, as a charge’s filter.',
    },
    limit: { node: money(), required: '(the usage allowed per billing period, a decimal string, e.g. "1000000")', description: 'Usage allowed per billing period: a decimal string greater than 0.' },
    alerts: {
      node: list('list of percents', integer(1)),
      default: [],
      description: 'Alert thresholds in percent of limit (integers > 0, strictly increasing; above 100 allowed): one alert the first time usage reaches each in a period.',
    },
  },
  { check: checkEntitlement },
);

export const entitlementsField: FieldSpec = {
  node: list('list of entitlements', entitlement, { unique: { field: 'key', label: 'entitlement key' } }),
  description: 'Usage allowances per billing period, with alerts (docs/entitlements.md).',
};
