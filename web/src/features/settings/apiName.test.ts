// API names suggested from labels.
import { describe, expect, it } from 'vitest';
import { givenLabel, suggestApiName } from './apiName';

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

describe('givenLabel', () => {
  it('leaves blank languages to the server', () => {
    expect(givenLabel({ zh: ' 项目 ', en: ' ' })).toEqual({ zh: '项目' });
    expect(givenLabel({ zh: '项目', en: 'Project' })).toEqual({ zh: '项目', en: 'Project' });
    expect(givenLabel({ en: '', zh: '' })).toBeUndefined();
    expect(givenLabel(undefined)).toBeUndefined();
  });
});
