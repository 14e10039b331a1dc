import { describe, expect, it } from 'vitest';
import { isIanaZone } from '../../schemas/index.js';

describe('isIanaZone', () => {
  it('accepts IANA zones, again and again from its cache', () => {
    for (let i = 0; i < 3; i++) {
      expect(isIanaZone('America/Los_Angeles')).toBe(true);
      expect(isIanaZone('Asia/Kolkata')).toBe(true);
      expect(isIanaZone('UTC')).toBe(true);
    }
  });

  it('refuses names that are not zones, every time (they are never cached as valid)', () => {
    for (let i = 0; i < 3; i++) {
      expect(isIanaZone('America/Los_Angele')).toBe(false);
      expect(isIanaZone('')).toBe(false);
      expect(isIanaZone('PST8PDT/nowhere')).toBe(false);
    }
  });
});
