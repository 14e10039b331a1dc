/**
 * The seam between wire formats and validation: a decoder turns a record
 * value's bytes into a candidate CloudEvent object (not yet validated), or
 * says why it cannot. JSON is decoded here; Avro in the schema registry wire
 * format (avro-event-decoder.ts) reuses the same validation.
 */
import { checkEventValue } from '../../schemas/event-rules.js';
import type { DeadLetterReason } from '../../schemas/records.js';

/**
 * Reasons a decoder itself may give; everything else is validation's business.
 * `invalid-field` and `too-deep` come from the shared event rules
 * (schemas/event-rules.ts), which every decoder applies to what it decoded.
 */
export type DecodeFailureReason = Extract<DeadLetterReason, 'invalid-encoding' | 'unknown-schema' | 'not-an-object' | 'too-large' | 'invalid-field' | 'too-deep'>;

export type DecodedValue =
  | { readonly ok: true; readonly value: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly reason: DecodeFailureReason; readonly message: string }
  /**
   * Not decidable yet: the writer schema `schemaId` is not cached. Not a
   * verdict on the record: `prepare` it, then decode again.
   */
  | { readonly ok: 'pending'; readonly schemaId: number };

export interface EventDecoder {
  /** Short format name for messages, e.g. "JSON". */
  readonly format: string;
  /**
   * Decodes one record value. Synchronous: it runs on the hot path (and, when
   * the input is keyed by subject, inside the timestamp extractor). A decoder
   * that needs remote data (Avro writer schemas) answers from its cache, and
   * `pending` when the value needs something not cached yet.
   */
  decode(value: Buffer | null): DecodedValue;
  /**
   * Fetches what `decode(value)` needs and caches it, so that the next
   * `decode(value)` gives a verdict. Returns undefined when nothing is missing
   * (the common case: no promise on the hot path). The promise rejects only
   * when the fetch cannot be done now (a registry outage): a retriable error,
   * never a verdict on the record.
   */
  prepare?(value: Buffer | null): Promise<void> | undefined;
}

/** Default cap on one event's size: 1 MiB. */
export const defaultMaxEventBytes = 1_048_576;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** CloudEvents in the JSON structured format: UTF-8 JSON text holding one object. */
export function jsonEventDecoder(maxEventBytes: number = defaultMaxEventBytes): EventDecoder {
  return {
    format: 'JSON',
    decode(value) {
      if (value === null) return { ok: false, reason: 'invalid-encoding', message: 'the record has no value (a tombstone); a usage event is a JSON object' };
      if (value.length > maxEventBytes) {
        return { ok: false, reason: 'too-large', message: `the event is ${value.length} bytes; the limit is ${maxEventBytes} bytes` };
      }
      let text: string;
      try {
        text = utf8.decode(value);
      } catch {
        return { ok: false, reason: 'invalid-encoding', message: 'the value is not valid UTF-8; send CloudEvents as UTF-8 JSON' };
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        return { ok: false, reason: 'invalid-encoding', message: `the value is not JSON: ${(error as Error).message}` };
      }
      // Before anything else looks at it: nothing may recurse into a value nested thousands of levels deep.
      const violation = checkEventValue(parsed);
      if (violation !== undefined) return { ok: false, ...violation };
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        const what = parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`;
        return { ok: false, reason: 'not-an-object', message: `the value is JSON ${what}; a usage event is one CloudEvent object` };
      }
      return { ok: true, value: parsed as Record<string, unknown> };
    },
  };
}
