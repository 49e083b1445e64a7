import { describe, expect, it } from 'vitest';
import { formatAutoNumber, validAutoNumberFormat } from './autoNumber';

const AT = new Date('2026-03-07T23:30:00Z');

describe('auto number formats', () => {
  it('fill in the creation day and the zero-padded sequence', () => {
    expect(formatAutoNumber('HT-{YYYY}-{0000}', 1, AT)).toBe('HT-2026-0001');
    expect(formatAutoNumber('{YY}{MM}{DD}-{000}', 42, AT)).toBe('260307-042');
    expect(formatAutoNumber('NO.{0}', 7, AT)).toBe('NO.7');
  });

  it('do not cut a number wider than its zeros', () => {
    expect(formatAutoNumber('T-{00}', 12345, AT)).toBe('T-12345');
  });

  it('use the day in UTC', () => {
    expect(formatAutoNumber('{DD}', 1, new Date('2026-03-08T01:00:00+08:00'))).toBe('07');
  });

  it('need exactly one sequence', () => {
    expect(validAutoNumberFormat('HT-{YYYY}-{0000}')).toBe(true);
    expect(validAutoNumberFormat('HT-{YYYY}')).toBe(false);
    expect(validAutoNumberFormat('{00}-{00}')).toBe(false);
    expect(validAutoNumberFormat('{}')).toBe(false);
  });
});
