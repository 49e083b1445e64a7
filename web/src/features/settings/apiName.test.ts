// API names suggested from labels.
import { describe, expect, it } from 'vitest';
import { suggestApiName } from './apiName';

describe('suggestApiName', () => {
  it('makes snake case from English labels', () => {
    expect(suggestApiName('Serial number')).toBe('serial_number');
    expect(suggestApiName('  Warranty (end) date ')).toBe('warranty_end_date');
    expect(suggestApiName('Café')).toBe('cafe');
  });
  it('starts with a letter and drops what it cannot spell', () => {
    expect(suggestApiName('2nd contact')).toBe('nd_contact');
    expect(suggestApiName('设备')).toBe('');
  });
});
