// Kanban column totals moved with a card, with exact decimals.
import { describe, expect, it } from 'vitest';
import { addDecimal, moveInTotals } from './totals';

describe('addDecimal', () => {
  it('adds and subtracts exact decimal strings at the larger scale', () => {
    expect(addDecimal('1500.30', '0.7')).toBe('1501.00');
    expect(addDecimal('0.10', '0.20')).toBe('0.30');
    expect(addDecimal('100', '250.5', -1)).toBe('-150.5');
    expect(addDecimal('99999999999999999.99', '0.01')).toBe('100000000000000000.00');
    expect(addDecimal('-0.5', '0.5')).toBe('0.0');
  });
});

describe('moveInTotals', () => {
  const result = {
    groups: [
      { key: 'prospecting', count: 3, metrics: [[{ amount: '300.00', currency: 'CNY' }]] },
      { key: 'won', count: 1, metrics: [[{ amount: '50.00', currency: 'USD' }]] },
    ],
  };

  it('moves the count and the amount from one column to the other', () => {
    const moved = moveInTotals(result, 'prospecting', 'won', { amount: '120.50', currency: 'CNY' });
    expect(moved.groups).toEqual([
      { key: 'prospecting', count: 2, metrics: [[{ amount: '179.50', currency: 'CNY' }]] },
      { key: 'won', count: 2, metrics: [[{ amount: '50.00', currency: 'USD' }, { amount: '120.50', currency: 'CNY' }]] },
    ]);
    expect(result.groups[0].count).toBe(3);
  });

  it('creates the group of a column that was empty, and moves records without an amount', () => {
    const moved = moveInTotals(result, 'won', null, null);
    expect(moved.groups.find((g) => g.key === 'won')?.count).toBe(0);
    expect(moved.groups.find((g) => g.key === null)).toEqual({ key: null, count: 1, metrics: [] });
  });
});
