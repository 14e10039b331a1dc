import { describe, expect, it } from 'vitest';
import { TallyError } from '../../schemas/index.js';
import { compileJsonPath } from '../../schemas/json-path.js';

const data = {
  tokens: 120,
  route: '/v1/chat',
  model: { name: 'm1', 'odd.key': 'dotted', "it's": 'quoted', 'tab\tkey': 'escaped', é: 'accent' },
  items: [{ sku: 'a' }, { sku: 'b' }],
  'user-id': 'u1',
  zero: 0,
  empty: '',
  nothing: null,
};

function rejection(path: string): TallyError {
  try {
    compileJsonPath(path);
  } catch (error) {
    if (error instanceof TallyError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(path)} to be rejected`);
}

describe('compileJsonPath', () => {
  it('selects the whole data object with $', () => {
    expect(compileJsonPath('$').get(data)).toBe(data);
  });

  it('selects members with dot names, including nested ones', () => {
    expect(compileJsonPath('$.tokens').get(data)).toBe(120);
    expect(compileJsonPath('$.model.name').get(data)).toBe('m1');
    expect(compileJsonPath('$.user-id').get(data)).toBe('u1');
    expect(compileJsonPath('$.model.é').get(data)).toBe('accent');
  });

  it('selects members with single- and double-quoted brackets, whatever the characters', () => {
    expect(compileJsonPath("$['model']['odd.key']").get(data)).toBe('dotted');
    expect(compileJsonPath('$["model"]["odd.key"]').get(data)).toBe('dotted');
    expect(compileJsonPath("$[ 'tokens' ]").get(data)).toBe(120);
  });

  it('decodes escapes inside quoted names', () => {
    expect(compileJsonPath("$.model['it\\'s']").get(data)).toBe('quoted');
    expect(compileJsonPath('$.model["tab\\tkey"]').get(data)).toBe('escaped');
    expect(compileJsonPath('$.model["\\u00e9"]').get(data)).toBe('accent');
    expect(compileJsonPath('$["a\\\\b\\"c\\/d"]').segments).toEqual(['a\\b"c/d']);
  });

  it('selects array elements by index, and from the end with a negative index', () => {
    expect(compileJsonPath('$.items[0].sku').get(data)).toBe('a');
    expect(compileJsonPath('$.items[1]["sku"]').get(data)).toBe('b');
    expect(compileJsonPath('$.items[-1].sku').get(data)).toBe('b');
  });

  it('returns undefined for anything absent, without throwing', () => {
    expect(compileJsonPath('$.missing').get(data)).toBeUndefined();
    expect(compileJsonPath('$.missing.deeper').get(data)).toBeUndefined();
    expect(compileJsonPath('$.items[5].sku').get(data)).toBeUndefined();
    expect(compileJsonPath('$.tokens.value').get(data)).toBeUndefined();
    expect(compileJsonPath('$.items.length').get(data)).toBeUndefined();
    expect(compileJsonPath('$.route[0]').get(data)).toBeUndefined();
    expect(compileJsonPath('$.nothing.x').get(data)).toBeUndefined();
    expect(compileJsonPath('$.tokens').get(undefined)).toBeUndefined();
  });

  it('keeps falsy values that are present: 0, the empty string and null', () => {
    expect(compileJsonPath('$.zero').get(data)).toBe(0);
    expect(compileJsonPath('$.empty').get(data)).toBe('');
    expect(compileJsonPath('$.nothing').get(data)).toBeNull();
  });

  it('reads own properties only, never the prototype chain', () => {
    expect(compileJsonPath('$.constructor').get(data)).toBeUndefined();
    expect(compileJsonPath("$['__proto__']").get(data)).toBeUndefined();
    expect(compileJsonPath('$.toString').get({})).toBeUndefined();
  });

  it('precomputes the segments and keeps the path as written', () => {
    const compiled = compileJsonPath("$.items[0]['sku']");
    expect(compiled.path).toBe("$.items[0]['sku']");
    expect(compiled.segments).toEqual(['items', 0, 'sku']);
    expect(Object.isFrozen(compiled.segments)).toBe(true);
  });

  it.each([
    ['$..a', 1, 'recursive descent'],
    ['$.a[*]', 3, 'wildcards'],
    ['$.*', 1, 'wildcards'],
    ['$[?(@.x)]', 1, 'filters'],
    ['$[(@.length-1)]', 1, 'script expressions'],
    ['$.a[0:2]', 3, 'slices'],
    ["$['a','b']", 5, 'unions'],
  ])('refuses %s at position %i: %s are not supported', (path, position, what) => {
    const error = rejection(path);
    expect(error.code).toBe('json-path-invalid');
    expect(error.message).toContain(`invalid JSONPath ${JSON.stringify(path)} at position ${position}: ${what}`);
    expect(error.message).toContain("supported: $, .name, ['name'], [\"name\"] and [0] (no filters, wildcards, slices, recursive descent or scripts)");
  });

  it('refuses a path without $ and suggests the $ form', () => {
    expect(rejection('a.b').message).toContain('invalid JSONPath "a.b" at position 0: a path starts with $ (the event\'s data), e.g. $.a.b');
  });

  it('refuses the empty path', () => {
    expect(rejection('').message).toContain('invalid JSONPath "" at position 0: the path is empty; start it with $, e.g. $.tokens');
  });

  it.each([
    ['$.', 2, 'a name after . starts with a letter or _'],
    ['$.1a', 2, 'a name after . starts with a letter or _'],
    ["$['open", 2, 'unterminated quoted name'],
    ['$["\\q"]', 3, 'unknown escape \\q'],
    ['$["\\u12"]', 3, 'a \\u escape needs four hex digits'],
    ['$[01]', 2, 'an index has no leading zeros'],
    ['$[abc]', 2, 'a bracket holds a quoted name'],
    ['$[0', 3, 'expected ]'],
    ['$ .a', 1, 'unexpected " "'],
  ])('refuses the malformed %s at position %i', (path, position, what) => {
    const error = rejection(path);
    expect(error.message).toContain(`at position ${position}: ${what}`);
  });
});
