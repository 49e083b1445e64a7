// The segment builder's model and its conversion to and from the segment condition JSON
// (docs/SEGMENTS.md): groups (all / any, optionally negated) of three kinds of block — contact
// field rules (the list filter's own `Rule`, paths prefixed `contact.`), trait rules and
// behaviour blocks (event, property filters, window, count). `toCondition` drops blocks that are
// not complete yet and remembers the JSON pointer of every block it writes, so a server error
// (`details.path`) can be shown next to its block. Also: properties of an event type's JSON
// schema, readable sentences for conditions and entry / exit causes.
import type { I18n, MessageKey } from '../../i18n/I18nProvider';
import {
  isOp, newId, opsFor, ruleValue, type FilterField, type Op as FieldOp, type Rule,
} from '../records/filter/conditionModel';

export type CountOp = 'gte' | 'gt' | 'lte' | 'lt' | 'eq' | 'ne';
export type PropertyOp = 'eq' | 'ne' | 'in' | 'not_in' | 'contains' | 'gt' | 'gte' | 'lt' | 'lte' | 'exists' | 'not_exists';
export type TraitOp = 'eq' | 'ne' | 'in' | 'not_in' | 'contains' | 'gt' | 'gte' | 'lt' | 'lte' | 'is_empty' | 'is_not_empty';
export type WindowUnit = 'minutes' | 'hours' | 'days';

export const COUNT_OPS: CountOp[] = ['gte', 'gt', 'eq', 'ne', 'lte', 'lt'];
export const TRAIT_OPS: TraitOp[] = ['eq', 'ne', 'contains', 'in', 'not_in', 'gt', 'gte', 'lt', 'lte', 'is_empty', 'is_not_empty'];
export const PROPERTY_OPS: PropertyOp[] = ['eq', 'ne', 'contains', 'in', 'not_in', 'gt', 'gte', 'lt', 'lte', 'exists', 'not_exists'];
export const WINDOW_UNITS: WindowUnit[] = ['minutes', 'hours', 'days'];
/** Most property filters a behaviour may have. */
export const MAX_WHERE = 10;

export interface TraitRule {
  kind: 'trait';
  id: string;
  trait: string;
  op: TraitOp;
  value: unknown;
}

export interface PropertyFilter {
  id: string;
  property: string;
  op: PropertyOp;
  value: unknown;
}

/** Both window shapes are kept, so switching between them loses nothing. */
export interface BehaviorWindow {
  mode: 'last' | 'range';
  last: number | null;
  unit: WindowUnit;
  /** `YYYY-MM-DD` or an RFC 3339 instant; inclusive. */
  from: string | null;
  /** `YYYY-MM-DD` or an RFC 3339 instant; exclusive, as the API takes it. */
  to: string | null;
}

export interface BehaviorRule {
  kind: 'behavior';
  id: string;
  event: string;
  where: PropertyFilter[];
  window: BehaviorWindow;
  count: { op: CountOp; value: number | null };
}

export interface SegmentGroup {
  kind: 'group';
  id: string;
  combinator: 'all' | 'any';
  negate: boolean;
  children: SegmentNode[];
}

/** A block of the builder: a contact field rule (kind `rule`), a trait, a behaviour or a group. */
export type SegmentNode = Rule | TraitRule | BehaviorRule | SegmentGroup;
export type Leaf = Rule | TraitRule | BehaviorRule;

/** The JSON of a behaviour leaf. */
export interface BehaviorJson {
  event: string;
  where?: { property: string; op: PropertyOp; value?: unknown }[];
  window: { last: number; unit: WindowUnit } | { from: string; to: string };
  count: { op: CountOp; value: number };
}

export type SegmentCondition =
  | { all: SegmentCondition[] }
  | { any: SegmentCondition[] }
  | { not: SegmentCondition }
  | { field: string; op: FieldOp; value?: unknown }
  | { trait: string; op: TraitOp; value?: unknown }
  | { behavior: BehaviorJson };

// ---------------------------------------------------------------------------------------------
// New blocks

export function newGroup(combinator: 'all' | 'any' = 'all', children: SegmentNode[] = []): SegmentGroup {
  return { kind: 'group', id: newId(), combinator, negate: false, children };
}

export function newFieldRule(field?: FilterField): Rule {
  const op = field ? opsFor(field.type)[0] : 'eq';
  return { kind: 'rule', id: newId(), field: field?.path ?? '', op, value: fieldDefault(op) };
}

function fieldDefault(op: FieldOp): unknown {
  switch (op) {
    case 'is_empty': case 'is_not_empty': case 'today': case 'this_week': case 'this_month': case 'this_quarter':
      return undefined;
    case 'between':
      return [null, null];
    case 'in': case 'not_in':
      return [];
    case 'last_n_days': case 'next_n_days':
      return 7;
    default:
      return null;
  }
}

export function newTraitRule(trait = ''): TraitRule {
  return { kind: 'trait', id: newId(), trait, op: 'eq', value: null };
}

export function newBehavior(event = ''): BehaviorRule {
  return {
    kind: 'behavior',
    id: newId(),
    event,
    where: [],
    window: { mode: 'last', last: 30, unit: 'days', from: null, to: null },
    count: { op: 'gte', value: 1 },
  };
}

export function newPropertyFilter(property = ''): PropertyFilter {
  return { id: newId(), property, op: 'eq', value: null };
}

/** "Did not": the count is exactly zero. */
export function isDidNot(rule: BehaviorRule): boolean {
  return rule.count.op === 'eq' && rule.count.value === 0;
}

export function setDidNot(rule: BehaviorRule, didNot: boolean): BehaviorRule {
  if (didNot) return { ...rule, count: { op: 'eq', value: 0 } };
  return isDidNot(rule) ? { ...rule, count: { op: 'gte', value: 1 } } : rule;
}

// ---------------------------------------------------------------------------------------------
// Values

export type ValueShape = 'none' | 'single' | 'list';

export function traitValueShape(op: TraitOp): ValueShape {
  if (op === 'is_empty' || op === 'is_not_empty') return 'none';
  if (op === 'in' || op === 'not_in') return 'list';
  return 'single';
}

export function propertyValueShape(op: PropertyOp): ValueShape {
  if (op === 'exists' || op === 'not_exists') return 'none';
  if (op === 'in' || op === 'not_in') return 'list';
  return 'single';
}

const NUMERIC: ReadonlySet<string> = new Set(['gt', 'gte', 'lt', 'lte']);
const NUMBER_TEXT = /^-?\d+(\.\d+)?$/;

function blank(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'string' && value.trim() === '');
}

/** A comparison with a number typed as text compares as a number. */
function numeric(op: string, value: unknown): unknown {
  if (NUMERIC.has(op) && typeof value === 'string' && NUMBER_TEXT.test(value.trim())) return Number(value.trim());
  return value;
}

/** The value the API takes for an operator of the given shape, or `undefined` when missing. */
function leafValue(shape: ValueShape, op: string, value: unknown): unknown {
  if (shape === 'none') return null;
  if (shape === 'list') {
    const items = Array.isArray(value) ? value.filter((v) => !blank(v)) : [];
    return items.length > 0 ? items : undefined;
  }
  return blank(value) ? undefined : numeric(op, value);
}

/** A value of `traitValueShape(op)` kept when the shape stays. */
export function changeTraitOp(rule: TraitRule, op: TraitOp): TraitRule {
  const same = traitValueShape(op) === traitValueShape(rule.op);
  return { ...rule, op, value: same ? rule.value : traitValueShape(op) === 'list' ? [] : null };
}

export function changePropertyOp(filter: PropertyFilter, op: PropertyOp): PropertyFilter {
  const same = propertyValueShape(op) === propertyValueShape(filter.op);
  return { ...filter, op, value: same ? filter.value : propertyValueShape(op) === 'list' ? [] : null };
}

// ---------------------------------------------------------------------------------------------
// Dates of a window range: the picker shows the last day included, the API takes the day after.

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function isDate(value: string | null | undefined): value is string {
  return typeof value === 'string' && DATE.test(value);
}

/** `YYYY-MM-DD` plus `days` (calendar arithmetic, no time zone). */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number);
  const t = new Date(Date.UTC(y ?? 0, (m ?? 1) - 1, d ?? 1) + days * 86_400_000);
  return t.toISOString().slice(0, 10);
}

/** The last day a range includes, for the picker (`to` is exclusive). */
export function lastIncludedDay(to: string | null): string | null {
  if (!to) return null;
  return isDate(to) ? addDays(to, -1) : to;
}

/** The exclusive `to` of a range whose last included day is `day`. */
export function exclusiveEnd(day: string | null): string | null {
  if (!day) return null;
  return isDate(day) ? addDays(day, 1) : day;
}

// ---------------------------------------------------------------------------------------------
// Builder tree → condition JSON

export interface Built {
  condition: SegmentCondition | null;
  /** JSON pointer (in the condition) of every block and property filter written, by id. */
  pointers: Map<string, string>;
}

function behaviorJson(rule: BehaviorRule, pointer: string, pointers: Map<string, string>): BehaviorJson | null {
  if (!rule.event) return null;
  const { window: w, count } = rule;
  let window: BehaviorJson['window'];
  if (w.mode === 'last') {
    if (w.last === null || !Number.isInteger(w.last) || w.last < 1) return null;
    window = { last: w.last, unit: w.unit };
  } else {
    if (!w.from || !w.to) return null;
    window = { from: w.from, to: w.to };
  }
  if (count.value === null || !Number.isInteger(count.value) || count.value < 0) return null;
  const where: NonNullable<BehaviorJson['where']> = [];
  for (const f of rule.where) {
    if (!f.property.trim()) continue;
    const value = leafValue(propertyValueShape(f.op), f.op, f.value);
    if (value === undefined) continue;
    pointers.set(f.id, `${pointer}/behavior/where/${where.length}`);
    where.push(value === null ? { property: f.property.trim(), op: f.op } : { property: f.property.trim(), op: f.op, value });
  }
  return {
    event: rule.event,
    ...(where.length ? { where } : {}),
    window,
    count: { op: count.op, value: count.value },
  };
}

function nodeJson(node: SegmentNode, pointer: string, pointers: Map<string, string>): SegmentCondition | null {
  switch (node.kind) {
    case 'rule': {
      const value = ruleValue(node);
      if (!node.field || value === undefined) return null;
      pointers.set(node.id, pointer);
      return value === null ? { field: node.field, op: node.op } : { field: node.field, op: node.op, value };
    }
    case 'trait': {
      const value = leafValue(traitValueShape(node.op), node.op, node.value);
      if (!node.trait.trim() || value === undefined) return null;
      pointers.set(node.id, pointer);
      return value === null ? { trait: node.trait.trim(), op: node.op } : { trait: node.trait.trim(), op: node.op, value };
    }
    case 'behavior': {
      const inner = new Map<string, string>();
      const json = behaviorJson(node, pointer, inner);
      if (!json) return null;
      pointers.set(node.id, pointer);
      for (const [id, p] of inner) pointers.set(id, p);
      return { behavior: json };
    }
    case 'group': {
      const complete = node.children.filter((child) => nodeJson(child, '', new Map()) !== null);
      if (complete.length === 0) return null;
      pointers.set(node.id, pointer);
      // A negated group of one is written `{not: child}`.
      if (node.negate && complete.length === 1) {
        const only = nodeJson(complete[0] as SegmentNode, `${pointer}/not`, pointers) as SegmentCondition;
        return { not: only };
      }
      const base = node.negate ? `${pointer}/not` : pointer;
      const key = node.combinator;
      const children = complete.map((child, i) => nodeJson(child, `${base}/${key}/${i}`, pointers) as SegmentCondition);
      const group: SegmentCondition = key === 'all' ? { all: children } : { any: children };
      return node.negate ? { not: group } : group;
    }
  }
}

/** The condition of a builder tree (`null` when it has no complete block) and its pointers. */
export function toCondition(root: SegmentGroup): Built {
  const pointers = new Map<string, string>();
  const condition = nodeJson(root, '', pointers);
  return { condition, pointers };
}

/** The id of the block (or property filter) an error at `pointer` belongs to: the deepest one
 * whose pointer is a prefix of it. Accepts pointers into the request body (`/condition/...`). */
export function blockForPointer(pointers: Map<string, string>, pointer: string | null | undefined): string | null {
  if (typeof pointer !== 'string') return null;
  const path = pointer.startsWith('/condition') ? pointer.slice('/condition'.length) : pointer;
  let best: { id: string; length: number } | null = null;
  for (const [id, p] of pointers) {
    if (path === p || path.startsWith(`${p}/`) || p === '') {
      if (!best || p.length > best.length) best = { id, length: p.length };
    }
  }
  return best?.id ?? null;
}

// ---------------------------------------------------------------------------------------------
// Condition JSON → builder tree

export class UnreadableCondition extends Error {}

function asObject(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UnreadableCondition('a condition node is an object');
  return value as Record<string, unknown>;
}

const TRAIT_OP_SET: ReadonlySet<string> = new Set(TRAIT_OPS);
const PROPERTY_OP_SET: ReadonlySet<string> = new Set(PROPERTY_OPS);
const COUNT_OP_SET: ReadonlySet<string> = new Set(COUNT_OPS);
const UNIT_SET: ReadonlySet<string> = new Set(WINDOW_UNITS);

function readBehavior(value: unknown): BehaviorRule {
  const b = asObject(value);
  if (typeof b.event !== 'string') throw new UnreadableCondition('a behaviour has an event');
  const rule = newBehavior(b.event);
  if (b.where !== undefined) {
    if (!Array.isArray(b.where)) throw new UnreadableCondition('where is a list');
    rule.where = b.where.map((item) => {
      const f = asObject(item);
      if (typeof f.property !== 'string' || typeof f.op !== 'string' || !PROPERTY_OP_SET.has(f.op)) {
        throw new UnreadableCondition('unknown property filter');
      }
      const op = f.op as PropertyOp;
      const shape = propertyValueShape(op);
      return { id: newId(), property: f.property, op, value: shape === 'none' ? null : f.value ?? (shape === 'list' ? [] : null) };
    });
  }
  const w = asObject(b.window);
  if (typeof w.last === 'number' && typeof w.unit === 'string' && UNIT_SET.has(w.unit)) {
    rule.window = { mode: 'last', last: w.last, unit: w.unit as WindowUnit, from: null, to: null };
  } else if (typeof w.from === 'string' && typeof w.to === 'string') {
    rule.window = { mode: 'range', last: 30, unit: 'days', from: w.from, to: w.to };
  } else {
    throw new UnreadableCondition('unknown window');
  }
  const c = asObject(b.count);
  if (typeof c.op !== 'string' || !COUNT_OP_SET.has(c.op) || typeof c.value !== 'number') throw new UnreadableCondition('unknown count');
  rule.count = { op: c.op as CountOp, value: c.value };
  return rule;
}

function readNode(value: unknown): SegmentNode {
  const map = asObject(value);
  if (Array.isArray(map.all) || Array.isArray(map.any)) {
    const combinator = Array.isArray(map.all) ? 'all' : 'any';
    return newGroup(combinator, (map[combinator] as unknown[]).map(readNode));
  }
  if ('not' in map) {
    const inner = readNode(map.not);
    if (inner.kind === 'group') return { ...inner, negate: !inner.negate };
    return { ...newGroup('all', [inner]), negate: true };
  }
  if ('behavior' in map) return readBehavior(map.behavior);
  if (typeof map.trait === 'string') {
    if (typeof map.op !== 'string' || !TRAIT_OP_SET.has(map.op)) throw new UnreadableCondition('unknown trait operator');
    const op = map.op as TraitOp;
    const shape = traitValueShape(op);
    return { kind: 'trait', id: newId(), trait: map.trait, op, value: shape === 'none' ? null : map.value ?? (shape === 'list' ? [] : null) };
  }
  if (typeof map.field === 'string' && isOp(map.op)) {
    const value = map.value === undefined || map.value === null ? fieldDefault(map.op) : map.value;
    return { kind: 'rule', id: newId(), field: map.field, op: map.op, value };
  }
  throw new UnreadableCondition('unknown condition node');
}

/** Reads a condition into a builder tree (the root is always a group); throws
 * `UnreadableCondition` for anything the builder cannot show. */
export function fromCondition(condition: unknown): SegmentGroup {
  if (condition === null || condition === undefined) return newGroup();
  const node = readNode(condition);
  return node.kind === 'group' ? node : newGroup('all', [node]);
}

// ---------------------------------------------------------------------------------------------
// Tree edits

/** A copy of the tree with `id`'s node replaced by `update(node)` (removed when it returns null). */
export function updateNode(root: SegmentGroup, id: string, update: (node: SegmentNode) => SegmentNode | null): SegmentGroup {
  const visit = (node: SegmentNode): SegmentNode | null => {
    if (node.id === id) return update(node);
    if (node.kind !== 'group') return node;
    return { ...node, children: node.children.map(visit).filter((c): c is SegmentNode => c !== null) };
  };
  const next = visit(root);
  return next && next.kind === 'group' ? next : newGroup();
}

/** How many complete blocks a tree holds. */
export function countBlocks(root: SegmentGroup): number {
  const { pointers } = toCondition(root);
  let n = 0;
  const visit = (node: SegmentNode) => {
    if (node.kind === 'group') node.children.forEach(visit);
    else if (pointers.has(node.id)) n += 1;
  };
  visit(root);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Event type schemas

export interface SchemaProperty {
  /** Dotted path under `properties`. */
  path: string;
  /** JSON Schema type: string, number, integer, boolean, object, array, or `any`. */
  type: string;
  enum?: unknown[];
  description?: string;
}

/** The properties an event type's JSON schema declares, nested objects as dotted paths. */
export function schemaProperties(schema: unknown, prefix = '', depth = 0): SchemaProperty[] {
  if (depth > 4 || typeof schema !== 'object' || schema === null) return [];
  const props = (schema as Record<string, unknown>).properties;
  if (typeof props !== 'object' || props === null) return [];
  const out: SchemaProperty[] = [];
  for (const [name, def] of Object.entries(props as Record<string, unknown>)) {
    const d = (typeof def === 'object' && def !== null ? def : {}) as Record<string, unknown>;
    const rawType = Array.isArray(d.type) ? d.type.find((t) => t !== 'null') : d.type;
    const type = typeof rawType === 'string' ? rawType : 'any';
    const path = prefix + name;
    if (type === 'object' && d.properties) {
      out.push(...schemaProperties(d, `${path}.`, depth + 1));
    } else {
      out.push({
        path,
        type,
        ...(Array.isArray(d.enum) ? { enum: d.enum } : {}),
        ...(typeof d.description === 'string' ? { description: d.description } : {}),
      });
    }
  }
  return out;
}

/** The operators that make sense for a property of a JSON Schema type. */
export function propertyOpsFor(type: string | undefined): PropertyOp[] {
  switch (type) {
    case 'string':
      return ['eq', 'ne', 'contains', 'in', 'not_in', 'exists', 'not_exists'];
    case 'number': case 'integer':
      return ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'not_in', 'exists', 'not_exists'];
    case 'boolean':
      return ['eq', 'ne', 'exists', 'not_exists'];
    default:
      return PROPERTY_OPS;
  }
}

// ---------------------------------------------------------------------------------------------
// Readable sentences

type T = I18n['t'];

function valueText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(valueText).join(', ');
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

function opText(t: T, op: string): string {
  const key = `segments.op.${op}` as MessageKey;
  const text = t(key);
  return text === key ? op : text;
}

export function windowText(t: T, window: unknown): string {
  if (typeof window !== 'object' || window === null) return '';
  const w = window as Record<string, unknown>;
  if (typeof w.last === 'number' && typeof w.unit === 'string') {
    return t(`segments.window.last.${w.unit}` as MessageKey, { n: w.last });
  }
  if (typeof w.from === 'string' && typeof w.to === 'string') {
    const to = lastIncludedDay(w.to) ?? w.to;
    return t('segments.window.range', { from: w.from, to });
  }
  return '';
}

/** How a description names what a condition refers to: contact fields by their labels,
 * events and their properties by the registry's display names. Raw names where left out. */
export interface DescribeNames {
  field?: (path: string) => string;
  event?: (name: string) => string;
  property?: (event: string, path: string) => string;
}

/** One leaf as a sentence: "浏览商品（系列 等于 A）近30天至少1次". */
export function describeLeaf(t: T, leaf: unknown, names: DescribeNames = {}): string {
  const fieldLabel = names.field ?? ((p: string) => p);
  if (typeof leaf !== 'object' || leaf === null) return '';
  const map = leaf as Record<string, unknown>;
  // Lineage gives a behaviour's test without its `behavior` wrapper.
  const bare = typeof map.event === 'string' && typeof map.count === 'object';
  if (bare || (typeof map.behavior === 'object' && map.behavior !== null)) {
    const b = (bare ? map : map.behavior) as Record<string, unknown>;
    const raw = String(b.event ?? '');
    const event = names.event ? names.event(raw) : raw;
    const property = (path: string) => (names.property ? names.property(raw, path) : path);
    const where = Array.isArray(b.where)
      ? (b.where as Record<string, unknown>[])
          .map((w) => `${property(String(w.property))} ${opText(t, String(w.op))}${w.value === undefined || w.value === null ? '' : ` ${valueText(w.value)}`}`)
          .join(t('segments.describe.and'))
      : '';
    const window = windowText(t, b.window);
    const count = (b.count ?? {}) as Record<string, unknown>;
    const what = where ? t('segments.describe.eventWhere', { event, where }) : event;
    if (count.op === 'eq' && count.value === 0) return t('segments.describe.didNot', { what, window });
    const n = String(count.value ?? '');
    return t(n === '1' ? 'segments.describe.didOne' : 'segments.describe.did', { what, window, op: opText(t, `count.${String(count.op)}`), n });
  }
  if (typeof map.trait === 'string') {
    const value = map.value === undefined || map.value === null ? '' : ` ${valueText(map.value)}`;
    return `${t('segments.describe.trait', { trait: map.trait })} ${opText(t, String(map.op))}${value}`;
  }
  if (typeof map.field === 'string') {
    const value = map.value === undefined || map.value === null ? '' : ` ${valueText(map.value)}`;
    const fieldOp = `op.${String(map.op)}` as MessageKey;
    const op = t(fieldOp) === fieldOp ? String(map.op) : t(fieldOp);
    return `${fieldLabel(map.field)} ${op}${value}`;
  }
  return JSON.stringify(leaf);
}

/** A whole condition as indented lines ("All of:", "  - …"). */
export function describeCondition(t: T, condition: unknown, names: DescribeNames = {}, depth = 0): string[] {
  const pad = '  '.repeat(depth);
  if (typeof condition !== 'object' || condition === null) return [];
  const map = condition as Record<string, unknown>;
  if (Array.isArray(map.all) || Array.isArray(map.any)) {
    const key = Array.isArray(map.all) ? 'all' : 'any';
    return [
      `${pad}${t(key === 'all' ? 'segments.group.all' : 'segments.group.any')}:`,
      ...(map[key] as unknown[]).flatMap((c) => describeCondition(t, c, names, depth + 1)),
    ];
  }
  if ('not' in map) return [`${pad}${t('segments.describe.not')}:`, ...describeCondition(t, map.not, names, depth + 1)];
  return [`${pad}- ${describeLeaf(t, condition, names)}`];
}

// ---------------------------------------------------------------------------------------------
// Causes of entries and exits

export type CauseKind =
  | 'event' | 'window_expired' | 'definition_changed' | 'merged' | 'unmerged' | 'archived' | 'evaluated' | 'contact_changed' | 'other';

export interface Cause {
  kind: CauseKind;
  /** The raw kind, when not one of the known ones. */
  raw?: string;
  event?: string;
  seq?: string;
  messageId?: string;
  version?: number;
  profileId?: string;
}

const KINDS: Record<string, CauseKind> = {
  event: 'event',
  events: 'event',
  window: 'window_expired',
  window_expired: 'window_expired',
  expired: 'window_expired',
  timer: 'window_expired',
  definition: 'definition_changed',
  definition_changed: 'definition_changed',
  version: 'definition_changed',
  created: 'definition_changed',
  merge: 'merged',
  merged: 'merged',
  unmerge: 'unmerged',
  unmerged: 'unmerged',
  archived: 'archived',
  archive: 'archived',
  evaluate: 'evaluated',
  evaluated: 'evaluated',
  evaluation: 'evaluated',
  manual: 'evaluated',
  reevaluated: 'evaluated',
  contact: 'contact_changed',
  contact_changed: 'contact_changed',
};

function text(value: unknown): string | undefined {
  if (typeof value === 'string' && value) return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** Reads the cause of an entry or exit: a JSON object (`{kind, ...}`), its text, or a plain
 * kind such as `window_expired` or `event:123`. */
export function parseCause(cause: unknown): Cause {
  let value = cause;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed.startsWith('{')) {
      try {
        value = JSON.parse(trimmed);
      } catch {
        value = trimmed;
      }
    }
  }
  if (typeof value === 'string') {
    const [head, ...rest] = value.split(':');
    const kind = KINDS[(head ?? '').trim().toLowerCase()];
    const detail = rest.join(':').trim();
    if (!kind) return { kind: 'other', raw: value };
    return { kind, ...(detail ? (kind === 'event' ? { seq: detail } : kind === 'merged' || kind === 'unmerged' ? { profileId: detail } : { raw: detail }) : {}) };
  }
  if (typeof value !== 'object' || value === null) return { kind: 'other', raw: value === undefined || value === null ? '' : String(value) };
  const map = value as Record<string, unknown>;
  const rawKind = text(map.kind) ?? text(map.type) ?? text(map.cause) ?? '';
  const kind = KINDS[rawKind.toLowerCase()] ?? 'other';
  const version = typeof map.version === 'number' ? map.version : undefined;
  return {
    kind,
    ...(kind === 'other' ? { raw: rawKind || JSON.stringify(value) } : {}),
    ...(text(map.event) ?? text(map.event_name) ?? text(map.name) ? { event: text(map.event) ?? text(map.event_name) ?? text(map.name) } : {}),
    ...(text(map.seq) ?? text(map.event_seq) ? { seq: text(map.seq) ?? text(map.event_seq) } : {}),
    ...(text(map.message_id) ? { messageId: text(map.message_id) } : {}),
    ...(version !== undefined ? { version } : {}),
    ...(text(map.profile_id) ?? text(map.merged_from) ?? text(map.from) ?? text(map.other) ? { profileId: text(map.profile_id) ?? text(map.merged_from) ?? text(map.from) ?? text(map.other) } : {}),
  };
}

/** A cause as a short sentence, the event by its display name. */
export function describeCause(t: T, cause: unknown, eventName: (name: string) => string = (e) => e): string {
  const c = parseCause(cause);
  switch (c.kind) {
    case 'event': {
      const base = c.event ? t('segments.cause.eventNamed', { event: eventName(c.event) }) : t('segments.cause.event');
      return c.seq ? `${base} (#${c.seq})` : base;
    }
    case 'window_expired':
      return t('segments.cause.window_expired');
    case 'definition_changed':
      return c.version !== undefined ? t('segments.cause.definitionVersion', { version: c.version }) : t('segments.cause.definition_changed');
    case 'merged':
      return c.profileId ? t('segments.cause.mergedWith') : t('segments.cause.merged');
    case 'unmerged':
      return t('segments.cause.unmerged');
    case 'archived':
      return t('segments.cause.archived');
    case 'evaluated':
      return t('segments.cause.evaluated');
    case 'contact_changed':
      return t('segments.cause.contact_changed');
    default:
      return c.raw ?? '';
  }
}

// ---------------------------------------------------------------------------------------------
// Lineage

/** The time of a lineage event in epoch ms (from `at`, `timestamp` or `ts`), or NaN. */
export function eventTime(event: { at?: string | null; timestamp?: string | null; ts?: number | string | null }): number {
  if (typeof event.ts === 'number') return event.ts;
  const raw = event.at ?? event.timestamp ?? (typeof event.ts === 'string' ? event.ts : null);
  return raw ? new Date(raw).getTime() : Number.NaN;
}

/** Events oldest first (the order they happened in). */
export function inTimeOrder<E extends { at?: string | null; timestamp?: string | null; ts?: number | string | null }>(events: E[]): E[] {
  return [...events].sort((a, b) => eventTime(a) - eventTime(b));
}

/** Contact fields for the builder: the contact's filter fields with paths under `contact.`. */
export function contactFields(fields: FilterField[]): FilterField[] {
  return fields.map((f) => ({ ...f, path: `contact.${f.path}` }));
}
