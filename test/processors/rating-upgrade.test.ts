import { describe, expect, it } from 'vitest';
import type { BillingDetailRecord } from '../../schemas/billing-detail.js';
import { withBillingPeriod } from '../../processors/rating/index.js';
import { billingDetailSample } from '../fixtures/record-samples.js';

describe('details stored before billing periods could be split', () => {
  it('get their period as billing period, in the record field order, so they can be finalized and invoiced', () => {
    const { billingPeriodStart: _start, billingPeriodEnd: _end, ...stored } = billingDetailSample;
    const upgraded = withBillingPeriod(stored as BillingDetailRecord);
    expect(upgraded).toEqual(billingDetailSample);
    expect(Object.keys(upgraded)).toEqual(Object.keys(billingDetailSample));
    expect(withBillingPeriod(billingDetailSample)).toBe(billingDetailSample);
  });
});
