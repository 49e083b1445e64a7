// The filter builder's model and its conversion to and from the kernel's condition JSON
// (`{all}`, `{any}`, `{not}`, leaves `{field, op, value}`; docs/API.md). The builder edits a
// tree of groups and rules; `toCondition` drops rules that are not complete yet, and
// `fromCondition` reads any valid condition back (a `not` becomes a negated group).
import type { FieldType, ObjectDef, SelectOption, Label } from '../../../api/types';

export type Op =
  | 'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte' | 'between' | 'in' | 'not_in' | 'contains' | 'starts_with'
  | 'is_empty' | 'is_not_empty' | 'today' | 'last_n_days' | 'next_n_days' | 'this_week' | 'this_month'
  | 'this_quarter';

export type Combinator = 'all' | 'any';

export interface Rule {
  kind: 'rule';
  id: string;
  field: string;
  op: Op;
  value: unknown;
}

export interface Group {
  kind: 'group';
  id: string;
  combinator: Combinator;
  negate: boolean;
  children: FilterNode[];
}

export type FilterNode = Rule | Group;

/** The JSON condition the API takes. */
export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { field: string; op: Op; value?: unknown };

/** A field a rule can test: one of the object's, or one hop through a relation (`company.industry`). */
export interface FilterField {
  path: string;
  /** The type values are compared as (a formula's result type). */
  type: FieldType;
  label: Label;
  /** The relation's label for paths through a relation. */
  via?: Label;
  options?: SelectOption[];
  target?: string | null;
}

/** What a rule's value looks like for an operator. */
export type ValueKind = 'none' | 'single' | 'pair' | 'list' | 'days';

const TEXT_OPS: Op[] = ['contains', 'eq', 'ne', 'starts_with', 'in', 'not_in', 'lt', 'lte', 'gt', 'gte', 'between', 'is_empty', 'is_not_empty'];
const CHOICE_OPS: Op[] = ['eq', 'ne', 'in', 'not_in', 'is_empty', 'is_not_empty'];
const NUMBER_OPS: Op[] = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'between', 'in', 'not_in', 'is_empty', 'is_not_empty'];
const BOOLEAN_OPS: Op[] = ['eq', 'ne', 'is_empty', 'is_not_empty'];
const DATE_OPS: Op[] = [
  'eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'between', 'is_empty', 'is_not_empty', 'today', 'last_n_days',
  'next_n_days', 'this_week', 'this_month', 'this_quarter', 'in', 'not_in',
];
const MULTI_OPS: Op[] = ['contains', 'in', 'not_in', 'is_empty', 'is_not_empty'];
/** An address is in one of some regions (a code's prefix: "31" is all of Shanghai), or empty. */
const ADDRESS_OPS: Op[] = ['in', 'is_empty', 'is_not_empty'];
const EMPTY_OPS: Op[] = ['is_not_empty', 'is_empty'];

/** The operators a field type accepts, most useful first (mirrors the kernel's table). */
export function opsFor(type: FieldType): Op[] {
  switch (type) {
    case 'text': case 'long_text': case 'email': case 'phone': case 'url': case 'formula': case 'auto_number':
      return TEXT_OPS;
    case 'select': case 'relation': case 'user':
      return CHOICE_OPS;
    case 'integer': case 'decimal': case 'percent': case 'currency':
      return NUMBER_OPS;
    case 'boolean':
      return BOOLEAN_OPS;
    case 'date': case 'datetime':
      return DATE_OPS;
    case 'multi_select': case 'multi_user':
      return MULTI_OPS;
    case 'address':
      return ADDRESS_OPS;
    case 'attachment':
      return EMPTY_OPS;
  }
}

export function valueKind(op: Op): ValueKind {
  switch (op) {
    case 'is_empty': case 'is_not_empty': case 'today': case 'this_week': case 'this_month': case 'this_quarter':
      return 'none';
    case 'between':
      return 'pair';
    case 'in': case 'not_in':
      return 'list';
    case 'last_n_days': case 'next_n_days':
      return 'days';
    default:
      return 'single';
  }
}

const RELATIVE_OPS: Op[] = ['today', 'last_n_days', 'next_n_days', 'this_week', 'this_month', 'this_quarter'];
const ALL_OPS: Op[] = [...new Set([...TEXT_OPS, ...DATE_OPS, ...MULTI_OPS, ...RELATIVE_OPS])];

export function isOp(value: unknown): value is Op {
  return typeof value === 'string' && (ALL_OPS as string[]).includes(value);
}

/** The type a formula's values compare as. */
function comparedType(type: FieldType, resultType?: string | null): FieldType {
  if (type !== 'formula') return type;
  if (resultType === 'decimal') return 'decimal';
  if (resultType === 'boolean') return 'boolean';
  return 'text';
}

const SYSTEM: { path: string; type: FieldType; label: Label }[] = [
  { path: 'created_at', type: 'datetime', label: { en: 'Created at', zh: '创建时间' } },
  { path: 'updated_at', type: 'datetime', label: { en: 'Updated at', zh: '更新时间' } },
  { path: 'owner_id', type: 'user', label: { en: 'Owner', zh: '负责人' } },
];

/** Every field of `object` a rule can test, then the fields one relation away. */
export function filterFields(object: ObjectDef, objects: ObjectDef[]): FilterField[] {
  const own = (o: ObjectDef, prefix = '', via?: Label): FilterField[] =>
    o.fields
      .filter((f) => !f.archived_at)
      .map((f) => ({
        path: prefix + f.api_name,
        type: comparedType(f.type, f.config?.result_type),
        label: f.label,
        via,
        options: f.config?.options,
        target: f.config?.target,
      }));
  const fields = [...own(object), ...SYSTEM.map((s) => ({ ...s }))];
  for (const relation of object.fields.filter((f) => f.type === 'relation' && !f.archived_at)) {
    const target = objects.find((o) => o.api_name === relation.config?.target);
    if (target) {
      fields.push(
        ...own(target, `${relation.api_name}.`, relation.label).filter((f) => f.type !== 'relation'),
      );
    }
  }
  return fields;
}

let counter = 0;
export function newId(): string {
  counter += 1;
  return `n${counter}`;
}

export function emptyGroup(combinator: Combinator = 'all'): Group {
  return { kind: 'group', id: newId(), combinator, negate: false, children: [] };
}

export function newRule(field?: FilterField): Rule {
  const op = field ? opsFor(field.type)[0] : 'eq';
  return { kind: 'rule', id: newId(), field: field?.path ?? '', op, value: defaultValue(op) };
}

export function defaultValue(op: Op): unknown {
  switch (valueKind(op)) {
    case 'none':
      return undefined;
    case 'pair':
      return [null, null];
    case 'list':
      return [];
    case 'days':
      return 7;
    default:
      return null;
  }
}

function blank(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'string' && value.trim() === '');
}

/** The value the API expects, or `undefined` when the rule is not complete. */
export function ruleValue(rule: Rule): unknown {
  switch (valueKind(rule.op)) {
    case 'none':
      return null;
    case 'pair': {
      const pair = Array.isArray(rule.value) ? rule.value : [];
      return pair.length === 2 && !blank(pair[0]) && !blank(pair[1]) ? pair : undefined;
    }
    case 'list': {
      const items = Array.isArray(rule.value) ? rule.value.filter((v) => !blank(v)) : [];
      return items.length > 0 ? items : undefined;
    }
    case 'days': {
      const n = Number(rule.value);
      return Number.isInteger(n) && n >= 1 ? n : undefined;
    }
    default:
      return blank(rule.value) ? undefined : rule.value;
  }
}

export function isComplete(rule: Rule): boolean {
  return rule.field !== '' && ruleValue(rule) !== undefined;
}

/** The condition of a builder tree; `null` when it has no complete rule. */
export function toCondition(node: FilterNode): Condition | null {
  if (node.kind === 'rule') {
    const value = ruleValue(node);
    if (!node.field || value === undefined) return null;
    return value === null ? { field: node.field, op: node.op } : { field: node.field, op: node.op, value };
  }
  const children = node.children.map(toCondition).filter((c): c is Condition => c !== null);
  if (children.length === 0) return null;
  const inner: Condition = node.combinator === 'all' ? { all: children } : { any: children };
  return node.negate ? { not: inner } : inner;
}

/** Reads a condition into a builder tree; the root is always a group. */
export function fromCondition(condition: unknown): Group {
  if (condition === null || condition === undefined) return emptyGroup();
  const node = readNode(condition);
  if (node.kind === 'group') return node;
  return { ...emptyGroup(), children: [node] };
}

function readNode(value: unknown): FilterNode {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('a condition node is an object');
  }
  const map = value as Record<string, unknown>;
  if (Array.isArray(map.all) || Array.isArray(map.any)) {
    const combinator: Combinator = Array.isArray(map.all) ? 'all' : 'any';
    const items = (map[combinator] as unknown[]).map(readNode);
    return { kind: 'group', id: newId(), combinator, negate: false, children: items };
  }
  if ('not' in map) {
    const inner = readNode(map.not);
    if (inner.kind === 'group') return { ...inner, negate: !inner.negate };
    return { kind: 'group', id: newId(), combinator: 'all', negate: true, children: [inner] };
  }
  if (typeof map.field === 'string' && isOp(map.op)) {
    const value = map.value === undefined || map.value === null ? defaultValue(map.op) : map.value;
    return { kind: 'rule', id: newId(), field: map.field, op: map.op, value };
  }
  throw new Error('unknown condition node');
}

/** How many complete rules a tree holds. */
export function countRules(node: FilterNode): number {
  if (node.kind === 'rule') return isComplete(node) ? 1 : 0;
  return node.children.reduce((sum, child) => sum + countRules(child), 0);
}

/** A copy of the tree with `id`'s node replaced by `update(node)` (or removed when it returns null). */
export function updateNode(root: Group, id: string, update: (node: FilterNode) => FilterNode | null): Group {
  const visit = (node: FilterNode): FilterNode | null => {
    if (node.id === id) return update(node);
    if (node.kind === 'rule') return node;
    return { ...node, children: node.children.map(visit).filter((c): c is FilterNode => c !== null) };
  };
  return (visit(root) as Group | null) ?? emptyGroup();
}

/** A rule moved to another field or operator keeps its value only when the shape still fits. */
export function changeOp(rule: Rule, op: Op): Rule {
  const same = valueKind(op) === valueKind(rule.op);
  return { ...rule, op, value: same ? rule.value : defaultValue(op) };
}

export function changeField(rule: Rule, field: FilterField): Rule {
  const ops = opsFor(field.type);
  const op = ops.includes(rule.op) ? rule.op : ops[0];
  return { ...rule, field: field.path, op, value: defaultValue(op) };
}
