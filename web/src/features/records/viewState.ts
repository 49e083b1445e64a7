// The state of a list or kanban view — columns, filter tree, sort keys, kanban group-by — and
// its conversion from and to a saved view (`ViewInput`). Pure, so it is unit-tested.
import type { FieldDef, ObjectDef, SavedView, ViewInput } from '../../api/types';
import { fromCondition, toCondition, type Group } from './filter/conditionModel';

export interface ViewState {
  columns: string[];
  filter: Group;
  sort: string[];
  groupBy: string | null;
}

/** System columns a view may show besides fields. */
export const SYSTEM_COLUMNS = ['owner_id', 'created_at', 'updated_at'] as const;

export function isSystemColumn(name: string): boolean {
  return (SYSTEM_COLUMNS as readonly string[]).includes(name);
}

export function activeFields(object: ObjectDef): FieldDef[] {
  return object.fields.filter((f) => !f.archived_at);
}

/** Fields whose values the server gives (auto numbers): shown, never written. */
export function isAssigned(field: FieldDef): boolean {
  return field.type === 'auto_number';
}

/** The name field, then the first section of the layout, up to six columns, then the owner. */
export function defaultColumns(object: ObjectDef): string[] {
  const active = new Set(activeFields(object).map((f) => f.api_name));
  const fromLayout = (object.layout ?? []).flatMap((s) => s.fields);
  const ordered = [object.name_field, ...fromLayout, ...active].filter((name) => active.has(name));
  const unique = [...new Set(ordered)].filter((name) => {
    const field = object.fields.find((f) => f.api_name === name);
    return field?.type !== 'long_text';
  });
  return [...unique.slice(0, 6), 'owner_id'];
}

/** The first select field (`stage` when there is one): the natural kanban columns. */
export function defaultGroupBy(object: ObjectDef): string | null {
  const selects = activeFields(object).filter((f) => f.type === 'select');
  return (selects.find((f) => f.api_name === 'stage') ?? selects[0])?.api_name ?? null;
}

export function defaultViewState(object: ObjectDef): ViewState {
  return { columns: defaultColumns(object), filter: fromCondition(null), sort: [], groupBy: defaultGroupBy(object) };
}

// The built-in "mine" view of every list (我的商机, 我的任务): the records assigned to the
// signed-in user where the object has an assignee (`assigned_to`), else those they own; and
// "my team's" (我团队的商机): the same for everyone who shares a team with them.
export const MY_VIEW = 'mine';
export const MY_TEAM_VIEW = 'team';

export function mineField(object: ObjectDef): string {
  return activeFields(object).some((f) => f.api_name === 'assigned_to' && f.type === 'user') ? 'assigned_to' : 'owner_id';
}

export function myViewState(object: ObjectDef, userId: string): ViewState {
  return { ...defaultViewState(object), filter: fromCondition({ field: mineField(object), op: 'eq', value: userId }) };
}

export function myTeamViewState(object: ObjectDef, members: string[]): ViewState {
  return { ...defaultViewState(object), filter: fromCondition({ field: mineField(object), op: 'in', value: members }) };
}

export function viewStateOf(object: ObjectDef, view: SavedView): ViewState {
  const known = new Set([...activeFields(object).map((f) => f.api_name), ...SYSTEM_COLUMNS]);
  const columns = view.columns.filter((c) => known.has(c));
  let filter: Group;
  try {
    filter = fromCondition(view.filter ?? null);
  } catch {
    filter = fromCondition(null);
  }
  return {
    columns: columns.length > 0 ? columns : defaultColumns(object),
    filter,
    sort: view.sort,
    groupBy: view.group_by ?? defaultGroupBy(object),
  };
}

export function viewInputOf(state: ViewState, name: string, shared: boolean, kind: 'list' | 'kanban'): ViewInput {
  return {
    name,
    kind,
    shared,
    columns: state.columns,
    filter: toCondition(state.filter) as ViewInput['filter'],
    sort: state.sort,
    group_by: kind === 'kanban' ? state.groupBy : null,
  };
}

/** Whether two states would list the same thing (to flag unsaved changes). */
export function sameView(a: ViewState, b: ViewState): boolean {
  return (
    JSON.stringify([a.columns, toCondition(a.filter), a.sort, a.groupBy]) ===
    JSON.stringify([b.columns, toCondition(b.filter), b.sort, b.groupBy])
  );
}

/** Sort keys from a table's sorter state, most important first. */
export function sortKeys(sorters: { field: string; order: 'ascend' | 'descend' | null | undefined; priority: number }[]): string[] {
  return sorters
    .filter((s) => s.order)
    .sort((a, b) => b.priority - a.priority)
    .map((s) => (s.order === 'descend' ? `-${s.field}` : s.field));
}

/** The sort order a column shows for the given keys. */
export function columnSortOrder(sort: string[], field: string): 'ascend' | 'descend' | null {
  if (sort.includes(field)) return 'ascend';
  if (sort.includes(`-${field}`)) return 'descend';
  return null;
}

/** A column's priority in a multi-key sort (the first key has the highest). */
export function columnSortPriority(sort: string[], field: string): number {
  const index = sort.findIndex((k) => k === field || k === `-${field}`);
  return index < 0 ? 0 : sort.length - index;
}
