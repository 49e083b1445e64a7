import { describe, expect, it } from 'vitest';
import { fromCondition, toCondition } from './conditionModel';
import { readUrlFilter, withUrlFilter } from './urlFilter';

const stage = { field: 'stage', op: 'eq', value: 'proposal' };

describe('the filter in the URL', () => {
  it('reads back what it wrote, and nothing from a bad one', () => {
    const written = withUrlFilter(new URLSearchParams('view=mine'), fromCondition(stage));
    expect(written.get('view')).toBe('mine');
    expect(toCondition(readUrlFilter(written.get('filter')) ?? fromCondition(null))).toEqual({ all: [stage] });
    expect(readUrlFilter('not json')).toBeNull();
    expect(readUrlFilter(null)).toBeNull();
  });

  it('drops an empty filter, or keeps it empty over a view that has its own', () => {
    const params = new URLSearchParams(`filter=${encodeURIComponent(JSON.stringify(stage))}`);
    expect(withUrlFilter(params, fromCondition(null)).has('filter')).toBe(false);
    const kept = withUrlFilter(params, fromCondition(null), true).get('filter');
    expect(kept).toBe('{"all":[]}');
    expect(readUrlFilter(kept)?.children).toEqual([]);
  });
});
