/**
 * Binary layouts of the rating stores whose values have a fixed shape. The
 * details and invoices stores keep JSON: their values hold whole billing
 * records whose shape grows with the features (lines, segments, revisions).
 */
import { integerFieldsCodec, type BinaryCodec } from '../../schemas/index.js';
import type { PeriodTerms, RatingCloseState } from './rating-stores.js';

export const periodTermsCodec: BinaryCodec<PeriodTerms> = {
  name: 'rating period terms',
  version: 1,
  write: (writer, terms) => {
    writer.string(terms.plan);
    writer.string(terms.currency);
    writer.string(terms.timezone);
  },
  read: (reader) => {
    const plan = reader.string();
    const currency = reader.string();
    return { plan, currency, timezone: reader.string() };
  },
};

/** `rating-open-details`: the key of the detail that is still open. */
export const openDetailCodec: BinaryCodec<string> = {
  name: 'rating open detail',
  version: 1,
  write: (writer, detailKey) => writer.string(detailKey),
  read: (reader) => reader.string(),
};

export const ratingCloseStateCodec = integerFieldsCodec<RatingCloseState, keyof RatingCloseState>('rating close state', ['finalizedThroughMs']);
