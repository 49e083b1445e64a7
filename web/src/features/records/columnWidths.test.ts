import { describe, expect, it } from 'vitest';
import type { FieldDef } from '../../api/types';
import { defaultColumnWidth, storeColumnWidth, storedColumnWidths } from './columnWidths';

function memory() {
  const items = new Map<string, string>();
  return { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v) };
}

const field = (api_name: string, type: FieldDef['type']): FieldDef => ({ api_name, type, label: { en: api_name, zh: api_name } });

describe('column widths', () => {
  it('fit the deal list’s seven default columns beside the menu at 1440 px', () => {
    const columns: [string, FieldDef | undefined][] = [
      ['name', field('name', 'text')], ['company', field('company', 'relation')], ['contact', field('contact', 'relation')],
      ['amount', field('amount', 'currency')], ['stage', field('stage', 'select')], ['close_date', field('close_date', 'date')],
      ['owner_id', undefined],
    ];
    const total = columns.reduce((sum, [name, f]) => sum + defaultColumnWidth(name, f, 'name'), 0);
    // 1440 − the menu (216) − the page's padding (2 × 16) − the selection column (32).
    expect(total).toBeLessThanOrEqual(1440 - 216 - 32 - 32);
  });

  it('keeps each object’s dragged widths, at least 80 px', () => {
    const store = memory();
    storeColumnWidth('deal', 'amount', 260.4, store);
    storeColumnWidth('deal', 'stage', 12, store);
    storeColumnWidth('contact', 'email', 300, store);
    expect(storedColumnWidths('deal', store)).toEqual({ amount: 260, stage: 80 });
    expect(storedColumnWidths('contact', store)).toEqual({ email: 300 });
    expect(store.getItem('rapport.columnWidths.deal')).toBe('{"amount":260,"stage":80}');
  });

  it('ignores what another version or a hand edit left', () => {
    const store = memory();
    store.setItem('rapport.columnWidths.deal', 'not json');
    expect(storedColumnWidths('deal', store)).toEqual({});
    store.setItem('rapport.columnWidths.deal', JSON.stringify({ amount: '300', stage: 150, name: null }));
    expect(storedColumnWidths('deal', store)).toEqual({ stage: 150 });
    store.setItem('rapport.columnWidths.deal', '[1]');
    expect(storedColumnWidths('deal', store)).toEqual({});
  });
});
