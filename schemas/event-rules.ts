/**
 * Rules a usage event must meet before the pipeline accepts it, because a
 * later stage could not store or encode it otherwise: its strings become
 * store keys (which must be well-formed Unicode), record keys and JSON
 * outputs; its `data` is written as JSON on the repartition topic (which
 * recurses once per nesting level). One function, {@link checkEventValue},
 * is shared by the pipeline's decoders, `POST /v1/events` and the producer
 * SDK, so all three refuse the same events with the same reason.
 *
 * The walk over the event is iterative: an event nested thousands of levels
 * deep is refused, never a stack overflow.
 */
import type { DeadLetterReason } from './records.js';

export const eventLimits = {
  /**
   * Levels of objects and arrays below the event object: `data` itself is
   * level 1, so `{"data": {"a": {"b": 1}}}` nests 2 levels.
   */
  maxDepth: 64,
  /**
   * UTF-8 bytes of one attribute's string value (id, source, type, subject,
   * …) and of one group-by or UNIQUE_COUNT value: they become parts of store
   * keys, record keys and stored values.
   */
  maxTextBytes: 1024,
} as const;

export interface EventRuleViolation {
  readonly reason: Extract<DeadLetterReason, 'invalid-field' | 'too-deep'>;
  readonly message: string;
}

/** One container on the walk; `parent` and `key` rebuild its path for a message. */
interface Frame {
  readonly value: object;
  readonly depth: number;
  readonly parent: Frame | undefined;
  readonly key: string | number | undefined;
}

// CloudEvents forbids control characters in attribute values; U+0000 would also break the meter store key's separator.
const controlCharacter = /[\u0000-\u001f\u007f-\u009f]/;
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

type MaybeWellFormed = { isWellFormed(): boolean };

/** True when `text` has no lone UTF-16 surrogate (Node 20's String.prototype.isWellFormed). */
export function isWellFormedText(text: string): boolean {
  return (text as unknown as MaybeWellFormed).isWellFormed();
}

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function quote(text: string): string {
  const json = JSON.stringify(text); // escapes lone surrogates and control characters
  return json.length > 60 ? `${json.slice(0, 60)}…` : json;
}

function codePoint(unit: number): string {
  return `U+${unit.toString(16).toUpperCase().padStart(4, '0')}`;
}

function pathOf(frame: Frame | undefined, key: string | number | undefined): string {
  const segments: (string | number)[] = key === undefined ? [] : [key];
  for (let at = frame; at !== undefined && at.key !== undefined; at = at.parent) segments.push(at.key);
  segments.reverse();
  let path = '';
  for (const segment of segments) {
    if (typeof segment === 'number') path += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) path += path === '' ? segment : `.${segment}`;
    else path += `[${JSON.stringify(segment)}]`;
  }
  if (path === '') return 'the event';
  return path.length > 80 ? `${path.slice(0, 80)}…` : path;
}

function illFormed(what: string, text: string): EventRuleViolation {
  const at = loneSurrogate.exec(text)?.index ?? 0;
  return {
    reason: 'invalid-field',
    message:
      `${what} holds a lone UTF-16 surrogate (${codePoint(text.charCodeAt(at))} at index ${at}) in ${quote(text)}; ` +
      'send well-formed Unicode text (a lone surrogate is half a character, e.g. a string cut in the middle of an emoji)',
  };
}

/** The attribute rules for one top-level string value (not `data`); `name` is the member name. */
function checkAttribute(member: string, value: string): EventRuleViolation | undefined {
  // Most attributes are short ASCII: the byte length is the length, and only the two regexes are left.
  if (value.length * 3 <= eventLimits.maxTextBytes && !controlCharacter.test(value) && isWellFormedText(value)) return undefined;
  const name = pathOf(undefined, member);
  if (!isWellFormedText(value)) return illFormed(name, value);
  const control = controlCharacter.exec(value);
  if (control !== null) {
    return {
      reason: 'invalid-field',
      message: `${name} contains the control character ${codePoint(value.charCodeAt(control.index))} at index ${control.index} in ${quote(value)}; CloudEvents attribute values must not contain control characters (U+0000–U+001F, U+007F–U+009F)`,
    };
  }
  const bytes = utf8Bytes(value);
  if (bytes > eventLimits.maxTextBytes) {
    return {
      reason: 'invalid-field',
      message: `${name} is ${bytes} bytes in UTF-8 (${quote(value)}); attribute values may be at most ${eventLimits.maxTextBytes} bytes, as they become parts of store and record keys — shorten it`,
    };
  }
  return undefined;
}

function tooDeep(frame: Frame, key: string | number): EventRuleViolation {
  return {
    reason: 'too-deep',
    message:
      `${pathOf(frame, key)} is nested more than ${eventLimits.maxDepth} levels of objects and arrays deep (or refers to itself); ` +
      `flatten the event: data may nest at most ${eventLimits.maxDepth} levels`,
  };
}

/**
 * Checks a decoded candidate event (any JSON value) against the rules every
 * later stage needs, first problem first:
 * 1. top-level string attributes (all but `data`): well-formed Unicode, no
 *    control characters, at most {@link eventLimits}.maxTextBytes in UTF-8;
 * 2. every string and every member name anywhere in the event: well-formed
 *    Unicode (`invalid-field`);
 * 3. objects and arrays nest at most {@link eventLimits}.maxDepth levels below
 *    the event (`too-deep`).
 * Types and presence of fields are validation's business afterwards: a
 * candidate that is not an object passes here unless it breaks 2 or 3.
 */
function checkMember(stack: Frame[], frame: Frame, key: string | number, item: unknown): EventRuleViolation | undefined {
  if (typeof item === 'string') {
    if (!isWellFormedText(item)) return illFormed(pathOf(frame, key), item);
  } else if (typeof item === 'object' && item !== null) {
    if (frame.depth + 1 > eventLimits.maxDepth) return tooDeep(frame, key);
    stack.push({ value: item, depth: frame.depth + 1, parent: frame, key });
  }
  return undefined;
}

export function checkEventValue(candidate: unknown): EventRuleViolation | undefined {
  if (typeof candidate === 'string') return isWellFormedText(candidate) ? undefined : illFormed('the event', candidate);
  if (typeof candidate !== 'object' || candidate === null) return undefined;
  if (!Array.isArray(candidate)) {
    const event = candidate as Record<string, unknown>;
    for (const name in event) {
      const value = event[name];
      if (name !== 'data' && typeof value === 'string') {
        const violation = checkAttribute(name, value);
        if (violation !== undefined) return violation;
      }
    }
  }
  const stack: Frame[] = [{ value: candidate, depth: 0, parent: undefined, key: undefined }];
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    const { value } = frame;
    // Indexes and for…in rather than entries(): this runs for every event.
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index++) {
        const violation = checkMember(stack, frame, index, value[index]);
        if (violation !== undefined) return violation;
      }
    } else {
      const object = value as Record<string, unknown>;
      for (const key in object) {
        if (!isWellFormedText(key)) return illFormed(`the member name at ${pathOf(frame, undefined)}`, key);
        const violation = checkMember(stack, frame, key, object[key]);
        if (violation !== undefined) return violation;
      }
    }
  }
  return undefined;
}
