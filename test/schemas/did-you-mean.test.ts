import { describe, expect, it } from 'vitest';
import { closestMatch, didYouMean } from '../../schemas/internal/did-you-mean.js';

describe('did you mean', () => {
  const keys = ['valueProperty', 'eventType', 'aggregation', 'groupBy', 'slug'];

  it('suggests the closest key for a typo, a transposition or a case slip', () => {
    expect(closestMatch('valueProprety', keys)).toBe('valueProperty');
    expect(closestMatch('agregation', keys)).toBe('aggregation');
    expect(closestMatch('groupby', keys)).toBe('groupBy');
    expect(closestMatch('por', ['pro', 'team'])).toBe('pro');
  });

  it('suggests nothing when no key is close', () => {
    expect(closestMatch('colour', keys)).toBeUndefined();
    expect(closestMatch('x', [])).toBeUndefined();
    expect(didYouMean('colour', keys)).toBe('');
  });

  it('formats the hint for a message', () => {
    expect(didYouMean('slgu', keys)).toBe(' (did you mean slug?)');
  });
});
