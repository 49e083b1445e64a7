import { describe, expect, it } from 'vitest';
import type { FieldDef, ObjectDef } from '../../../api/types';
import type { ValueMap } from './api';
import { activeObjects, isRepeated, mapForm, mappableFields, optionsOf, sortMaps, templateUsage, validSystem, valueMapInput } from './model';

const field = (api_name: string, type: FieldDef['type'], more: Partial<FieldDef> = {}): FieldDef => ({ api_name, type, label: { en: api_name, zh: api_name }, ...more });

const STATUS = field('order_status', 'select', {
  config: { options: [{ value: 'signed', label: { en: 'Signed', zh: '已签约' } }, { value: 'shipped', label: { en: 'Shipped', zh: '已发货' } }] },
});

const DEAL: ObjectDef = {
  api_name: 'deal',
  name_field: 'name',
  label: { en: 'Deal', zh: '商机' },
  plural_label: { en: 'Deals', zh: '商机' },
  fields: [field('name', 'text'), STATUS, field('amount', 'currency'), field('tags', 'multi_select'), field('old_code', 'text', { archived_at: '2025-01-01T00:00:00Z' })],
};

const map = (more: Partial<ValueMap> = {}): ValueMap => ({
  id: 'm1',
  system: 'ERP',
  object: 'deal',
  field: 'order_status',
  description: '',
  entries: [{ crm_value: 'shipped', external_code: 'SHIPPED' }],
  unmapped: [],
  created_at: '2025-01-01T00:00:00Z',
  updated_at: '2025-01-01T00:00:00Z',
  ...more,
});

describe('what a mapping can be for', () => {
  it('offers active objects and their active single-select and text fields', () => {
    expect(activeObjects([DEAL, { ...DEAL, api_name: 'old', archived_at: '2025-01-01T00:00:00Z' }]).map((o) => o.api_name)).toEqual(['deal']);
    expect(mappableFields(DEAL).map((f) => f.api_name)).toEqual(['name', 'order_status']);
    expect(mappableFields(undefined)).toEqual([]);
  });

  it('lists a select field\'s options, none for a text field', () => {
    expect(optionsOf(STATUS).map((o) => o.value)).toEqual(['signed', 'shipped']);
    expect(optionsOf(DEAL.fields[0])).toEqual([]);
  });

  it('takes the system names templates can spell', () => {
    expect(validSystem('ERP')).toBe(true);
    expect(validSystem('金蝶 K3')).toBe(true);
    for (const bad of ['', ' ERP', 'ERP ', 'a|b', '{x}', 'x'.repeat(51)]) expect(validSystem(bad), bad).toBe(false);
  });
});

describe('the editor', () => {
  it('finds a repeated value or code in another row, ignoring spaces and empty cells', () => {
    const rows = [{ crm_value: 'shipped', external_code: 'SHIPPED' }, { crm_value: ' shipped ', external_code: 'S2' }, { crm_value: '', external_code: '' }, { external_code: '' }];
    expect(isRepeated(rows, 0, 'crm_value')).toBe(true);
    expect(isRepeated(rows, 1, 'crm_value')).toBe(true);
    expect(isRepeated(rows, 0, 'external_code')).toBe(false);
    expect(isRepeated(rows, 2, 'crm_value')).toBe(false);
    expect(isRepeated(rows, 3, 'external_code')).toBe(false);
  });

  it('prefills a row for a value met unmapped: a CRM value outbound, a code inbound', () => {
    expect(mapForm(map(), { direction: 'outbound', value: 'signed' }).entries).toEqual([{ crm_value: 'shipped', external_code: 'SHIPPED' }, { crm_value: 'signed' }]);
    expect(mapForm(map(), { direction: 'inbound', value: 'CONTRACTED' }).entries).toEqual([{ crm_value: 'shipped', external_code: 'SHIPPED' }, { external_code: 'CONTRACTED' }]);
    expect(mapForm(null)).toEqual({ system: '', object: undefined, field: undefined, description: '', entries: [{}] });
  });

  it('sends trimmed texts and leaves wholly empty rows out', () => {
    expect(
      valueMapInput({
        system: ' ERP ',
        object: 'deal',
        field: 'order_status',
        description: ' 订单状态 ',
        entries: [{ crm_value: 'signed', external_code: ' CONTRACTED ' }, {}, { crm_value: ' ', external_code: '' }],
      }),
    ).toEqual({ system: 'ERP', object: 'deal', field: 'order_status', description: '订单状态', entries: [{ crm_value: 'signed', external_code: 'CONTRACTED' }] });
  });
});

describe('the page', () => {
  it('lists mappings by system, then object and field', () => {
    const maps = [map({ id: 'b', system: 'WMS' }), map({ id: 'c', field: 'stage' }), map({ id: 'a', field: 'order_status' }), map({ id: 'd', object: 'account' })];
    expect(sortMaps(maps).map((m) => m.id)).toEqual(['d', 'a', 'c', 'b']);
  });

  it('shows how a connector template names a mapping', () => {
    expect(templateUsage(map())).toBe('{{record.order_status | map:ERP}}');
  });
});
