/**
 * The seam between wire formats and validation: a decoder turns a record
 * value's bytes into a candidate CloudEvent object (not yet validated), or
 * says why it cannot. JSON is the only format today; an Avro decoder (schema
 * registry wire format) plugs in here later and reuses the same validation.
 */
import type { DeadLetterReason } from '../../schemas/records.js';

/** Reasons a decoder itself may give; everything else is validation's business. */
export type DecodeFailureReason = Extract<DeadLetterReason, 'invalid-encoding' | 'unknown-schema' | 'not-an-object' | 'too-large'>;

export type DecodedValue =
  | { readonly ok: true; readonly value: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly reason: DecodeFailureReason; readonly message: string };

export interface EventDecoder {
  /** Short format name for messages, e.g. "JSON". */
  readonly format: string;
  /**
   * Decodes one record value. Synchronous: it runs on the hot path (and, when
   * the input is keyed by subject, inside the timestamp extractor). An Avro
   * decoder resolves writer schemas ahead of time and caches them.
   */
  decode(value: Buffer | null): DecodedValue;
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
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        const what = parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`;
        return { ok: false, reason: 'not-an-object', message: `the value is JSON ${what}; a usage event is one CloudEvent object` };
      }
      return { ok: true, value: parsed as Record<string, unknown> };
    },
  };
}
