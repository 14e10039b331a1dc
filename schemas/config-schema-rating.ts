/**
 * The rating sections of `tally.yaml` (docs/rating.md): customers and
 * plans with their charges. Which keys a charge takes depends on its model;
 * that table (`chargeModelKeys`) drives both validation and the reference.
 */
import { chargeModels, type ChargeModel } from './config-types.js';
import { failed, list, map, record, type Check, type FieldSpec, type ParseContext, type Presence } from './internal/config-dsl.js';
import { entitlementsField } from './config-schema-entitlements.js';
import { currency, instant, integer, localDate, money, oneOf, SLUG, slug, stringOrList, text, timeOfDay, timeZone } from './internal/config-scalars.js';

const subscription = record('subscription', {
  plan: { node: slug('plan key'), required: '(the key of one of plans)', description: 'Key of the plan this subscription bills.' },
  from: { node: instant(), required: '(an RFC 3339 instant, e.g. "2024-02-21T06:00:00Z")', description: 'When the subscription starts (inclusive).' },
});

/** Subscriptions in order of `from`, `cancelledAt` after the first, and exactly one of plan and subscriptions. */
const checkCustomer: Check = (customer, path, ctx) => {
  const subscriptions = customer['subscriptions'] as readonly (Readonly<Record<string, unknown>> | undefined)[] | undefined;
  if (subscriptions === undefined) {
    const reported = failed(customer, 'plan') || failed(customer, 'subscriptions');
    if (customer['plan'] === undefined && !reported) ctx.report(`${path}.plan`, 'required (the key of one of plans)');
    return;
  }
  let previous: { ms: number; index: number } | undefined;
  subscriptions.forEach((item, index) => {
    const from = item?.['from'];
    if (typeof from !== 'string') return;
    const ms = Date.parse(from);
    if (previous !== undefined && ms <= previous.ms) {
      ctx.report(`${path}.subscriptions[${index}].from`, `${JSON.stringify(from)} must be after ${path}.subscriptions[${previous.index}].from; list subscriptions in order of from`);
    }
    previous = { ms, index };
  });
  const cancelledAt = customer['cancelledAt'];
  const first = subscriptions[0]?.['from'];
  if (typeof cancelledAt === 'string' && typeof first === 'string' && Date.parse(cancelledAt) < Date.parse(first)) {
    ctx.report(`${path}.cancelledAt`, `${JSON.stringify(cancelledAt)} is before the first subscription starts (${first}); cancel at or after it`);
  }
};

const customer = record('customer', {
  id: { node: slug('customer id'), required: '(the customer id, e.g. acme)', description: 'Unique customer id.' },
  subjects: {
    node: list('list of strings', text(), { nonEmpty: 'list the event subjects this customer owns, e.g. [acme-prod]', unique: { label: 'subject' } }),
    required: '(the event subjects this customer owns, e.g. [acme-prod])',
    description: 'Event `subject`s whose usage this customer pays for; a subject belongs to one customer.',
  },
  timezone: { node: timeZone(), required: '(an IANA zone, e.g. America/Los_Angeles)', description: 'Zone of billing periods and time-of-day prices.' },
  currency: { node: currency(), required: '(an ISO 4217 code, e.g. USD)', description: 'Currency; amounts are rounded half-up to its minor unit (USD 2, JPY 0).' },
  billingAnchor: {
    node: localDate(),
    required: '(a local date, e.g. "2024-01-15")',
    description: 'Local date; monthly periods start on its day of month at local midnight (clamped to short months).',
  },
  subscriptions: {
    node: list('list of subscriptions', subscription, { nonEmpty: 'list at least one, e.g. [{ plan: pro, from: "2024-02-21T06:00:00Z" }]' }),
    description: 'Plans over time, ordered by from; each runs from its from (inclusive) to the next one’s from, or cancelledAt, or for ever.',
  },
  plan: {
    node: slug('plan key'),
    presence: (siblings) => (siblings['subscriptions'] === undefined ? 'optional' : { forbidden: '(the customer has subscriptions; give each plan there)' }),
    presenceDoc: 'Exactly one of plan and subscriptions.',
    description: 'Key of the customer’s plan, from the beginning of time (or use subscriptions).',
  },
  cancelledAt: {
    node: instant(),
    presence: (siblings) => (siblings['subscriptions'] === undefined ? { forbidden: '(only a customer with subscriptions can be cancelled; list its subscriptions)' } : 'optional'),
    presenceDoc: 'Only with subscriptions.',
    description: 'RFC 3339 instant: the last subscription ends here (exclusive); its details are final at cancelledAt + allowedLateness.',
  },
  entitlements: entitlementsField,
}, { check: checkCustomer });

/** Which keys each model takes (everything else model-specific is refused). */
export const chargeModelKeys: Readonly<Record<ChargeModel, Readonly<Record<string, 'required' | 'optional'>>>> = {
  per_unit: { unitPrice: 'required', flatFee: 'optional' },
  graduated: { tiers: 'required' },
  volume: { tiers: 'required' },
  package: { packageSize: 'required', packagePrice: 'required', freeUnits: 'optional' },
  time_of_day: { intervals: 'required' },
};

const REQUIRED_HINTS: Readonly<Record<string, string>> = {
  unitPrice: 'the price of one unit, e.g. "0.001"',
  tiers: 'e.g. [{ upTo: 1000, unitPrice: "0" }, { unitPrice: "0.001" }]',
  packageSize: 'units per package, e.g. 10',
  packagePrice: 'the price of one package, e.g. "100"',
  intervals: 'e.g. [{ from: "00:00", to: "06:00", unitPrice: "0.02" }, { from: "06:00", to: "24:00", unitPrice: "0.03" }]',
};

function byModel(key: string): Pick<FieldSpec, 'presence' | 'presenceDoc'> {
  const uses = chargeModels.filter((model) => chargeModelKeys[model][key] !== undefined);
  const presence = (siblings: Readonly<Record<string, unknown>>): Presence => {
    const model = siblings['model'] as ChargeModel | undefined;
    if (model === undefined) return 'optional';
    const rule = chargeModelKeys[model][key];
    if (rule === 'optional') return 'optional';
    if (rule === 'required') return { required: `for ${model} (${REQUIRED_HINTS[key] ?? ''})` };
    return { forbidden: `for ${model} (${model} uses ${Object.keys(chargeModelKeys[model]).join(', ')}; remove it)` };
  };
  return { presence, presenceDoc: `Only for ${uses.map((model) => `${model} (${chargeModelKeys[model][key]})`).join(', ')}.` };
}

const tier = record('tier', {
  upTo: { node: integer(1), description: 'Inclusive upper bound in units; every tier but the last has one, increasing; the last is open (no upTo).' },
  unitPrice: { node: money(), required: '(the price of each unit in this tier, e.g. "0.002")', description: 'Price per unit in this tier.' },
  flatFee: { node: money(), description: 'Charged once when any unit falls in this tier (graduated), or when the total lands in it (volume).' },
});

const interval = record('interval', {
  from: { node: timeOfDay(false), required: '(local start time, e.g. "00:00")', description: 'Local start time HH:mm, inclusive.' },
  to: { node: timeOfDay(true), required: '(local end time, e.g. "06:00" or "24:00")', description: 'Local end time HH:mm, exclusive; 24:00 is the end of the day.' },
  unitPrice: { node: money(), required: '(the price of a unit used in this interval, e.g. "0.02")', description: 'Price per unit of usage whose event time falls in the interval.' },
});

type Loose = Readonly<Record<string, unknown>> | undefined;

function checkTiers(tiers: readonly Loose[], path: string, ctx: ParseContext): void {
  let previous: { upTo: number; index: number } | undefined;
  tiers.forEach((tier, index) => {
    if (tier === undefined || failed(tier, 'upTo')) return;
    const upTo = tier['upTo'] as number | undefined;
    const at = `${path}[${index}].upTo`;
    const last = index === tiers.length - 1;
    if (last && upTo !== undefined) {
      ctx.report(at, `not allowed on the last tier: it is open-ended and prices every unit above ${previous?.upTo ?? 0}; remove upTo`);
    } else if (!last && upTo === undefined) {
      ctx.report(at, 'required (only the last tier is open-ended; give this tier’s inclusive upper bound in units)');
    } else if (upTo !== undefined && previous !== undefined && upTo <= previous.upTo) {
      ctx.report(at, `${upTo} must be greater than ${path}[${previous.index}].upTo (${previous.upTo}); tiers go in increasing order`);
    }
    if (upTo !== undefined) previous = { upTo, index };
  });
}

const minutesOf = (time: string): number => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));

function checkIntervals(intervals: readonly Loose[], path: string, ctx: ParseContext): void {
  const cover = 'intervals cover the day from 00:00 to 24:00, in order, with no gaps or overlaps';
  let end: { time: string; index: number } | undefined = { time: '00:00', index: -1 };
  intervals.forEach((interval, index) => {
    const from = interval?.['from'] as string | undefined;
    const to = interval?.['to'] as string | undefined;
    if (from !== undefined && end !== undefined && from !== end.time) {
      const where = end.index < 0 ? 'the day starts at 00:00' : `${path}[${end.index}] ends at ${end.time}`;
      const problem = end.index < 0 ? 'must be 00:00' : minutesOf(from) > minutesOf(end.time) ? `"${from}" leaves a gap` : `"${from}" overlaps`;
      ctx.report(`${path}[${index}].from`, `${problem} (${where}); start it at ${end.time}: ${cover}`);
    }
    if (from !== undefined && to !== undefined && minutesOf(to) <= minutesOf(from)) {
      ctx.report(`${path}[${index}].to`, `"${to}" must be after from ("${from}"); ${cover}`);
    }
    end = to === undefined ? undefined : { time: to, index };
  });
  const lastIndex = intervals.length - 1;
  const last = intervals[lastIndex]?.['to'];
  if (typeof last === 'string' && last !== '24:00') ctx.report(`${path}[${lastIndex}].to`, `"${last}" leaves the rest of the day unpriced; end the last interval at "24:00": ${cover}`);
}

const checkCharge: Check = (charge, path, ctx) => {
  if (Array.isArray(charge['tiers'])) checkTiers(charge['tiers'] as Loose[], `${path}.tiers`, ctx);
  if (Array.isArray(charge['intervals'])) checkIntervals(charge['intervals'] as Loose[], `${path}.intervals`, ctx);
};

const charge = record(
  'charge',
  {
    key: { node: slug('charge key'), required: '(the charge name, unique within the plan, e.g. base)', description: 'Charge key, unique within its plan.' },
    meter: { node: slug('meter slug'), required: '(the slug of the meter this charge prices)', description: 'Slug of the meter whose usage is priced.' },
    model: { node: oneOf(chargeModels), required: `(one of ${chargeModels.join(', ')})`, description: 'Pricing model: how the period\'s quantity becomes lines and an amount (see docs/rating.md, "Charge models").' },
    unitPrice: { node: money(), ...byModel('unitPrice'), description: 'per_unit: price per unit (amount = flatFee + unitPrice × quantity).' },
    flatFee: { node: money(), ...byModel('flatFee'), description: 'per_unit: fixed amount per period.' },
    tiers: {
      node: list('list of tiers', tier, { nonEmpty: 'give at least one tier, e.g. [{ unitPrice: "0.001" }]' }),
      ...byModel('tiers'),
      description: 'graduated: each unit priced in its own tier; volume: the tier holding the total prices every unit.',
    },
    packageSize: { node: integer(1), ...byModel('packageSize'), description: 'package: units per package.' },
    packagePrice: { node: money(), ...byModel('packagePrice'), description: 'package: price of one package; amount = ceil((quantity − freeUnits) / packageSize) × packagePrice.' },
    freeUnits: { node: integer(0), default: 0, ...byModel('freeUnits'), description: 'package: units free of charge each period.' },
    filter: {
      node: map('filter', stringOrList(), SLUG, 'a filter key is one of the meter’s groupBy names'),
      description: 'Prices only usage whose group-by values match every entry: { <groupBy key>: value | [values] } (a list matches any of its values).',
    },
    intervals: {
      node: list('list of intervals', interval, { nonEmpty: `give the day's intervals, ${REQUIRED_HINTS['intervals'] ?? ''}` }),
      ...byModel('intervals'),
      description: 'time_of_day: unit prices by local time of day; usage is attributed by event time in the customer’s zone.',
    },
  },
  { check: checkCharge },
);

const plan = record('plan', {
  key: { node: slug('plan key'), required: '(the plan key customers refer to, e.g. pro)', description: 'Unique plan key.' },
  charges: {
    node: list('list of charges', charge, { unique: { field: 'key', label: 'charge key' } }),
    required: '(what the plan bills; may be an empty list)',
    description: 'Charges, each pricing one meter.',
  },
});

export const customersField: FieldSpec = {
  node: list('list of customers', customer, { unique: { field: 'id', label: 'customer id' } }),
  default: [],
  description: 'Customers seeding the tally-customers table (the topic is the source of truth at run time).',
};

export const plansField: FieldSpec = {
  node: list('list of plans', plan, { unique: { field: 'key', label: 'plan key' } }),
  default: [],
  description: 'Plans: named sets of charges.',
};
