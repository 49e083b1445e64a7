// View state ⇄ saved view: default columns from the layout, unknown columns dropped, filters
// kept as conditions, multi-key sorts in priority order.
import { describe, expect, it } from 'vitest';
import type { ObjectDef, SavedView } from '../../api/types';
import {
  columnSortOrder, columnSortPriority, defaultColumns, defaultGroupBy, defaultViewState, sameView, sortKeys,
  mineField, myTeamViewState, myViewState, viewInputOf, viewStateOf,
} from './viewState';
import { toCondition } from './filter/conditionModel';

const deal: ObjectDef = {
  api_name: 'deal',
  label: { en: 'Deal', zh: '商机' },
  plural_label: { en: 'Deals', zh: '商机' },
  name_field: 'name',
  layout: [{ label: { en: 'Basic', zh: '基本' }, fields: ['name', 'amount', 'stage', 'notes'] }],
  fields: [
    { api_name: 'name', label: { en: 'Name', zh: '名称' }, type: 'text' },
    { api_name: 'amount', label: { en: 'Amount', zh: '金额' }, type: 'currency' },
    { api_name: 'kind', label: { en: 'Kind', zh: '类型' }, type: 'select' },
    { api_name: 'stage', label: { en: 'Stage', zh: '阶段' }, type: 'select' },
    { api_name: 'notes', label: { en: 'Notes', zh: '备注' }, type: 'long_text' },
    { api_name: 'gone', label: { en: 'Gone', zh: '旧' }, type: 'text', archived_at: '2025-01-01T00:00:00Z' },
  ],
};

const saved: SavedView = {
  id: 'v1', object: 'deal', name: 'Big', kind: 'list', shared: true, owner_id: 'u1',
  columns: ['amount', 'gone', 'name', 'created_at'],
  filter: { all: [{ field: 'amount', op: 'gt', value: '100' }] },
  sort: ['-amount', 'name'], group_by: null,
  created_at: '2025-01-01T00:00:00Z', updated_at: '2025-01-01T00:00:00Z',
};

describe('view state', () => {
  it('defaults to the layout order without long texts, then the owner', () => {
    expect(defaultColumns(deal)).toEqual(['name', 'amount', 'stage', 'kind', 'owner_id']);
    expect(defaultGroupBy(deal)).toBe('stage');
  });

  it('reads a saved view and drops archived columns', () => {
    const state = viewStateOf(deal, saved);
    expect(state.columns).toEqual(['amount', 'name', 'created_at']);
    expect(state.sort).toEqual(['-amount', 'name']);
    expect(viewInputOf(state, 'Big', true, 'list')).toEqual({
      name: 'Big', kind: 'list', shared: true, columns: ['amount', 'name', 'created_at'],
      filter: { all: [{ field: 'amount', op: 'gt', value: '100' }] }, sort: ['-amount', 'name'], group_by: null,
    });
  });

  it('notices changes that matter only', () => {
    const a = viewStateOf(deal, saved);
    const b = viewStateOf(deal, saved);
    expect(sameView(a, b)).toBe(true);
    expect(sameView(a, { ...b, sort: ['name'] })).toBe(false);
    expect(sameView(defaultViewState(deal), defaultViewState(deal))).toBe(true);
  });

  it('turns table sorters into keys by priority and back', () => {
    const keys = sortKeys([
      { field: 'name', order: 'ascend', priority: 1 },
      { field: 'amount', order: 'descend', priority: 2 },
      { field: 'stage', order: null, priority: 3 },
    ]);
    expect(keys).toEqual(['-amount', 'name']);
    expect(columnSortOrder(keys, 'amount')).toBe('descend');
    expect(columnSortOrder(keys, 'stage')).toBeNull();
    expect(columnSortPriority(keys, 'amount')).toBeGreaterThan(columnSortPriority(keys, 'name'));
  });

  it("has a built-in 'mine' view: the assignee's where there is one, else the owner's", () => {
    expect(mineField(deal)).toBe('owner_id');
    const task = { ...deal, fields: [...deal.fields, { api_name: 'assigned_to', label: { en: 'A', zh: 'A' }, type: 'user' }] } as ObjectDef;
    expect(mineField(task)).toBe('assigned_to');
    const archived = { ...deal, fields: [...deal.fields, { api_name: 'assigned_to', label: { en: 'A', zh: 'A' }, type: 'user', archived_at: '2025-01-01T00:00:00Z' }] } as ObjectDef;
    expect(mineField(archived)).toBe('owner_id');
    const mine = myViewState(task, 'u7');
    expect(mine.columns).toEqual(defaultViewState(task).columns);
    expect(JSON.stringify(toCondition(mine.filter))).toContain('"field":"assigned_to","op":"eq","value":"u7"');
    const team = myTeamViewState(deal, ['u7', 'u8']);
    expect(JSON.stringify(toCondition(team.filter))).toContain('"field":"owner_id","op":"in","value":["u7","u8"]');
  });
});
