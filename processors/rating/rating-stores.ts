/**
 * The rating task's stores, all key-value, logged and cached:
 *
 * - `rating-details`: one entry per (customer, charge, period), key
 *   `customer|charge|periodStart`: the charge's usage and its current detail;
 * - `rating-periods`: the terms a customer's period started with (plan,
 *   currency, zone), key `customer|periodStart`, written with the period's
 *   first usage — so a plan change applies from the next period;
 * - `rating-open-details`: provisional details by close time (index for
 *   finalization), key `<closeAtMs, 16 digits>|<detail key>`;
 * - `rating-close-state`: the finalization bound, so finals are neither
 *   repeated nor lost across restarts (as `meter-close-state`);
 * - `rating-invoices`: one invoice per (customer, billing period), key
 *   `customer|billingPeriodStart` (see invoice-ledger.ts).
 */
import type { BillingDetailRecord } from '../../schemas/billing-detail.js';
import type { InternalRecordFormat } from '../../schemas/config-types.js';
import { internalRecordSerde, type BinaryCodec } from '../../schemas/index.js';
import { jsonSerde, type Serde } from '../../schemas/serde.js';
import type { KeyValueStore, StoreSpec } from '../../state/index.js';
import type { ChargeUsage } from './charge-usage.js';
import type { InvoiceState } from './invoice-ledger.js';
import { openDetailCodec, periodTermsCodec, ratingCloseStateCodec } from './rating-store-codecs.js';

export const ratingStoreNames = {
  details: 'rating-details',
  periods: 'rating-periods',
  openDetails: 'rating-open-details',
  closeState: 'rating-close-state',
  invoices: 'rating-invoices',
} as const;

/** Value in `rating-details`. */
export interface DetailState {
  readonly usage: ChargeUsage;
  /** The detail as last rated; emitted when its revision changes at a flush. */
  readonly detail: BillingDetailRecord;
  /** Period end, epoch ms. */
  readonly periodEndMs: number;
  /** periodEnd + allowedLateness, epoch ms: the detail is final once stream time or the wall clock reaches it. */
  readonly closeAtMs: number;
}

/** Value in `rating-periods`. */
export interface PeriodTerms {
  readonly plan: string;
  readonly currency: string;
  readonly timezone: string;
}

/** Value in `rating-close-state`. */
export interface RatingCloseState {
  /** Every detail with closeAtMs ≤ this is final (epoch ms); -1 before any. */
  readonly finalizedThroughMs: number;
}

const closeStateKey = 'close';

function kv<V>(name: string, valueSerde: Serde<V>): StoreSpec<V> {
  return { name, kind: 'keyValue', persistent: true, caching: true, logging: true, valueSerde };
}

export function ratingStoreSpecs(format: InternalRecordFormat = 'binary'): StoreSpec[] {
  const internal = <V>(codec: BinaryCodec<V>): Serde<V> => internalRecordSerde(codec, format);
  return [
    kv<DetailState>(ratingStoreNames.details, jsonSerde()),
    kv<PeriodTerms>(ratingStoreNames.periods, internal(periodTermsCodec)),
    kv<string>(ratingStoreNames.openDetails, internal(openDetailCodec)),
    kv<RatingCloseState>(ratingStoreNames.closeState, internal(ratingCloseStateCodec)),
    kv<InvoiceState>(ratingStoreNames.invoices, jsonSerde()),
  ] as StoreSpec[];
}

export function periodTermsKey(customerId: string, periodStart: string): string {
  return `${customerId}|${periodStart}`;
}

const closeDigits = 16;

/** Key in `rating-open-details`: fixed-width close time first, so a range scan finds what is due. */
export function openDetailKey(closeAtMs: number, key: string): string {
  return `${String(closeAtMs).padStart(closeDigits, '0')}|${key}`;
}

/** The close time an open-details key starts with. */
export function closeAtOfOpenKey(openKey: string): number {
  return Number(openKey.slice(0, closeDigits));
}

export function loadRatingCloseState(store: KeyValueStore<RatingCloseState>): RatingCloseState {
  return store.get(closeStateKey) ?? { finalizedThroughMs: -1 };
}

export function saveRatingCloseState(store: KeyValueStore<RatingCloseState>, state: RatingCloseState, timestampMs: number): void {
  store.put(closeStateKey, state, timestampMs);
}
