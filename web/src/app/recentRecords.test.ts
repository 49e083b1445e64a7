import { describe, expect, it } from 'vitest';
import { recentRecords, rememberRecord } from './recentRecords';

function memory() {
  const items = new Map<string, string>();
  return { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v) };
}

describe('recent records', () => {
  it('keeps the last ten visits, newest first, each once, per user', () => {
    const store = memory();
    for (let i = 0; i < 12; i++) rememberRecord('u1', { object: 'deal', id: `d${i}`, name: `D${i}` }, store);
    rememberRecord('u1', { object: 'deal', id: 'd5', name: 'D5 renamed' }, store);
    const recent = recentRecords('u1', store);
    expect(recent).toHaveLength(10);
    expect(recent[0]).toEqual({ object: 'deal', id: 'd5', name: 'D5 renamed' });
    expect(recent.filter((r) => r.id === 'd5')).toHaveLength(1);
    expect(recentRecords('u2', store)).toEqual([]);
  });

  it('survives what another tab or an old version left', () => {
    const store = memory();
    store.setItem('rapport.recent.u1', 'not json');
    expect(recentRecords('u1', store)).toEqual([]);
    store.setItem('rapport.recent.u1', JSON.stringify([{ object: 'deal' }, { object: 'deal', id: 'd1', name: null }]));
    expect(recentRecords('u1', store)).toEqual([{ object: 'deal', id: 'd1', name: null }]);
  });
});
