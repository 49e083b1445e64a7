// The segment builder's model: builder tree ↔ condition JSON, error pointers → blocks, window
// dates, event schema properties, readable conditions and causes.
import { describe, expect, it } from 'vitest';
import { translate, type MessageKey } from '../../i18n/I18nProvider';
import {
  addDays, blockForPointer, changePropertyOp, changeTraitOp, contactFields, countBlocks, describeCause, describeCondition, describeLeaf,
  exclusiveEnd, fromCondition, inTimeOrder, isDidNot, lastIncludedDay, newBehavior, newFieldRule, newGroup, newPropertyFilter,
  newTraitRule, parseCause, propertyOpsFor, schemaProperties, setDidNot, toCondition, updateNode, UnreadableCondition,
  type BehaviorRule, type SegmentGroup,
} from './model';

const en = (key: MessageKey, params?: Record<string, string | number>) => translate('en', key, params);
const zh = (key: MessageKey, params?: Record<string, string | number>) => translate('zh-CN', key, params);

/** The articles' example: 近30天浏览过A系列商品且未下单,且企业微信互动频次≥5次. */
const EXAMPLE = {
  all: [
    {
      behavior: {
        event: 'Product Viewed',
        where: [{ property: 'series', op: 'eq', value: 'A' }],
        window: { last: 30, unit: 'days' },
        count: { op: 'gte', value: 1 },
      },
    },
    { behavior: { event: 'Order Completed', window: { last: 30, unit: 'days' }, count: { op: 'eq', value: 0 } } },
    { behavior: { event: 'WeCom Message', window: { last: 30, unit: 'days' }, count: { op: 'gte', value: 5 } } },
  ],
};

const MIXED = {
  any: [
    EXAMPLE,
    { trait: 'plan', op: 'eq', value: 'pro' },
    { trait: 'vip', op: 'is_not_empty' },
    { field: 'contact.lifecycle_stage', op: 'in', value: ['customer', 'lead'] },
    { field: 'contact.company.industry', op: 'is_empty' },
    { not: { any: [{ trait: 'city', op: 'in', value: ['上海', '北京'] }, { field: 'contact.created_at', op: 'last_n_days', value: 7 }] } },
    { not: { behavior: { event: 'Ad Clicked', window: { from: '2026-06-15', to: '2026-06-18' }, count: { op: 'gt', value: 2 } } } },
    {
      behavior: {
        event: 'Order Completed',
        where: [
          { property: 'total', op: 'gte', value: 1000 },
          { property: 'currency', op: 'in', value: ['CNY'] },
          { property: 'coupon', op: 'not_exists' },
        ],
        window: { last: 72, unit: 'hours' },
        count: { op: 'lte', value: 3 },
      },
    },
  ],
};

describe('condition round trip', () => {
  it('reads and writes the articles’ example unchanged', () => {
    const tree = fromCondition(EXAMPLE);
    expect(tree.combinator).toBe('all');
    expect(tree.children.map((c) => c.kind)).toEqual(['behavior', 'behavior', 'behavior']);
    expect(isDidNot(tree.children[1] as BehaviorRule)).toBe(true);
    expect(toCondition(tree).condition).toEqual(EXAMPLE);
  });

  it('keeps every kind of leaf, nesting and negation', () => {
    expect(toCondition(fromCondition(MIXED)).condition).toEqual(MIXED);
  });

  it('wraps a single leaf in a group and an empty condition is an empty group', () => {
    const leaf = { trait: 'plan', op: 'eq', value: 'pro' };
    const tree = fromCondition(leaf);
    expect(tree.kind).toBe('group');
    expect(toCondition(tree).condition).toEqual({ all: [leaf] });
    expect(fromCondition(null).children).toEqual([]);
    expect(toCondition(newGroup()).condition).toBeNull();
  });

  it('negates a group twice back to itself', () => {
    const c = { not: { not: { all: [{ trait: 'a', op: 'eq', value: 1 }] } } };
    expect(toCondition(fromCondition(c)).condition).toEqual({ all: [{ trait: 'a', op: 'eq', value: 1 }] });
  });

  it('refuses what the builder cannot show', () => {
    expect(() => fromCondition({ magic: true })).toThrow(UnreadableCondition);
    expect(() => fromCondition({ behavior: { event: 'X', window: { last: 1, unit: 'weeks' }, count: { op: 'gte', value: 1 } } })).toThrow(
      UnreadableCondition,
    );
    expect(() => fromCondition({ trait: 'x', op: 'between', value: [1, 2] })).toThrow(UnreadableCondition);
    expect(() => fromCondition([1])).toThrow(UnreadableCondition);
  });
});

describe('building blocks', () => {
  it('drops incomplete blocks and property filters', () => {
    const behavior = newBehavior('Product Viewed');
    behavior.where = [newPropertyFilter('series'), { ...newPropertyFilter('sku'), op: 'exists' }];
    const tree = newGroup('all', [newBehavior(), newTraitRule(), newFieldRule(), behavior]);
    expect(toCondition(tree).condition).toEqual({
      all: [
        {
          behavior: {
            event: 'Product Viewed',
            where: [{ property: 'sku', op: 'exists' }],
            window: { last: 30, unit: 'days' },
            count: { op: 'gte', value: 1 },
          },
        },
      ],
    });
    expect(countBlocks(tree)).toBe(1);
  });

  it('needs a whole window and count', () => {
    const b = newBehavior('E');
    expect(toCondition(newGroup('all', [{ ...b, window: { ...b.window, last: null } }])).condition).toBeNull();
    expect(toCondition(newGroup('all', [{ ...b, window: { ...b.window, mode: 'range', from: '2026-06-15', to: null } }])).condition).toBeNull();
    expect(toCondition(newGroup('all', [{ ...b, count: { op: 'gte', value: null } }])).condition).toBeNull();
  });

  it('turns numbers typed as text into numbers for comparisons only', () => {
    const gt = { ...newTraitRule('age'), op: 'gt' as const, value: '30' };
    const eq = { ...newTraitRule('zip'), op: 'eq' as const, value: '200000' };
    const where = { ...newPropertyFilter('price'), op: 'lte' as const, value: '99.5' };
    const b = { ...newBehavior('E'), where: [where] };
    expect(toCondition(newGroup('all', [gt, eq, b])).condition).toEqual({
      all: [
        { trait: 'age', op: 'gt', value: 30 },
        { trait: 'zip', op: 'eq', value: '200000' },
        { behavior: { event: 'E', where: [{ property: 'price', op: 'lte', value: 99.5 }], window: { last: 30, unit: 'days' }, count: { op: 'gte', value: 1 } } },
      ],
    });
  });

  it('"did not" is a count of zero and switches back to at least once', () => {
    const b = newBehavior('Order Completed');
    const not = setDidNot(b, true);
    expect(not.count).toEqual({ op: 'eq', value: 0 });
    expect(isDidNot(not)).toBe(true);
    expect(setDidNot(not, false).count).toEqual({ op: 'gte', value: 1 });
    const five = { ...b, count: { op: 'gte' as const, value: 5 } };
    expect(setDidNot(five, false)).toBe(five);
  });

  it('keeps values when an operator keeps their shape', () => {
    const t = { ...newTraitRule('plan'), value: 'pro' };
    expect(changeTraitOp(t, 'ne').value).toBe('pro');
    expect(changeTraitOp(t, 'in').value).toEqual([]);
    expect(changeTraitOp(t, 'is_empty').value).toBeNull();
    const f = { ...newPropertyFilter('series'), value: 'A' };
    expect(changePropertyOp(f, 'contains').value).toBe('A');
    expect(changePropertyOp(f, 'not_in').value).toEqual([]);
  });

  it('edits and removes nodes anywhere in the tree', () => {
    const inner = newTraitRule('plan');
    const group = newGroup('any', [inner]);
    const root = newGroup('all', [group]);
    const edited = updateNode(root, inner.id, (n) => ({ ...n, value: 'pro' }) as typeof inner);
    expect(((edited.children[0] as SegmentGroup).children[0] as typeof inner).value).toBe('pro');
    expect(root.children[0]).toBe(group);
    const removed = updateNode(root, group.id, () => null);
    expect(removed.children).toEqual([]);
    expect(updateNode(root, root.id, () => null).children).toEqual([]);
  });

  it('prefixes contact fields', () => {
    expect(contactFields([{ path: 'company.industry', type: 'select', label: { en: 'Industry', zh: '行业' } }])[0]?.path).toBe('contact.company.industry');
  });
});

describe('error pointers', () => {
  it('finds the block an error points into, skipping incomplete blocks', () => {
    const incomplete = newTraitRule();
    const views = { ...newBehavior('Product Viewed'), where: [{ ...newPropertyFilter('series'), value: 'A' }] };
    const orders = setDidNot(newBehavior('Order Completed'), true);
    const plan = { ...newTraitRule('plan'), value: 'pro' };
    const vip = { ...newTraitRule('vip'), op: 'is_not_empty' as const };
    const group = { ...newGroup('any', [plan, vip]), negate: true };
    const city = { ...newTraitRule('city'), value: '上海' };
    const single = { ...newGroup('all', [city, newTraitRule()]), negate: true };
    const root = newGroup('all', [incomplete, views, orders, group, single]);
    const { condition, pointers } = toCondition(root);
    expect(condition).toMatchObject({
      all: [{ behavior: {} }, { behavior: {} }, { not: { any: [{ trait: 'plan' }, { trait: 'vip' }] } }, { not: { trait: 'city' } }],
    });
    expect(blockForPointer(pointers, '/all/3/not/value')).toBe(city.id);
    expect(blockForPointer(pointers, '/all/2/not/any/1/op')).toBe(vip.id);
    expect(blockForPointer(pointers, '/all/0/behavior/window/last')).toBe(views.id);
    expect(blockForPointer(pointers, '/all/0/behavior/where/0/value')).toBe(views.where[0]?.id);
    expect(blockForPointer(pointers, '/condition/all/1/behavior/event')).toBe(orders.id);
    expect(blockForPointer(pointers, '/all/2/not/any/0/value')).toBe(plan.id);
    expect(blockForPointer(pointers, '/all/2')).toBe(group.id);
    expect(blockForPointer(pointers, '/all')).toBe(root.id);
    expect(blockForPointer(pointers, null)).toBeNull();
  });
});

describe('window dates', () => {
  it('shows the last included day and sends the day after', () => {
    expect(addDays('2026-06-18', -1)).toBe('2026-06-17');
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(lastIncludedDay('2026-06-18')).toBe('2026-06-17');
    expect(exclusiveEnd('2026-06-17')).toBe('2026-06-18');
    expect(lastIncludedDay('2026-06-18T00:00:00+08:00')).toBe('2026-06-18T00:00:00+08:00');
    expect(lastIncludedDay(null)).toBeNull();
  });
});

describe('event schemas', () => {
  const schema = {
    type: 'object',
    properties: {
      sku: { type: 'string' },
      series: { type: 'string', enum: ['A', 'B', 'C'] },
      price: { type: ['number', 'null'], minimum: 0 },
      shipping: { type: 'object', properties: { city: { type: 'string' }, express: { type: 'boolean' } } },
      tags: { type: 'array' },
      free: {},
    },
  };

  it('lists properties with nested objects as dotted paths', () => {
    expect(schemaProperties(schema)).toEqual([
      { path: 'sku', type: 'string' },
      { path: 'series', type: 'string', enum: ['A', 'B', 'C'] },
      { path: 'price', type: 'number' },
      { path: 'shipping.city', type: 'string' },
      { path: 'shipping.express', type: 'boolean' },
      { path: 'tags', type: 'array' },
      { path: 'free', type: 'any' },
    ]);
    expect(schemaProperties(null)).toEqual([]);
    expect(schemaProperties({ type: 'object' })).toEqual([]);
  });

  it('offers operators by type', () => {
    expect(propertyOpsFor('boolean')).toEqual(['eq', 'ne', 'exists', 'not_exists']);
    expect(propertyOpsFor('integer')).toContain('gte');
    expect(propertyOpsFor('string')).not.toContain('gt');
    expect(propertyOpsFor(undefined)).toHaveLength(11);
  });
});

describe('readable conditions', () => {
  it('describes the example in both languages', () => {
    expect(describeCondition(en, EXAMPLE)).toEqual([
      'All of:',
      '  - Product Viewed where series is A at least 1 time in the last 30 days',
      '  - No Order Completed in the last 30 days',
      '  - WeCom Message at least 5 times in the last 30 days',
    ]);
    expect(describeCondition(zh, EXAMPLE)[2]).toBe('  - 近30天未发生 Order Completed');
  });

  it('names events and properties by their display names', () => {
    const names = {
      event: (name: string) => ({ 'Product Viewed': '浏览商品', 'Order Completed': '下单支付' })[name] ?? name,
      property: (event: string, path: string) => (event === 'Product Viewed' && path === 'series' ? '系列' : path),
    };
    const lines = describeCondition(zh, EXAMPLE, names);
    expect(lines[1]).toContain('浏览商品');
    expect(lines[1]).toContain('系列');
    expect(lines[1]).not.toMatch(/Product Viewed|series/);
    expect(lines[2]).toBe('  - 近30天未发生 下单支付');
    expect(lines[3]).toContain('WeCom Message');
    expect(describeCause(zh, { kind: 'event', event: 'Order Completed' }, names.event)).toContain('下单支付');
  });

  it('describes traits, fields, negations and date ranges', () => {
    const label = (path: string) => (path === 'contact.lifecycle_stage' ? 'Lifecycle stage' : path);
    expect(describeLeaf(en, { trait: 'plan', op: 'in', value: ['pro', 'team'] })).toBe('Trait plan is any of pro, team');
    expect(describeLeaf(en, { field: 'contact.lifecycle_stage', op: 'is_empty' }, { field: label })).toBe('Lifecycle stage is empty');
    expect(describeLeaf(en, { behavior: { event: 'Ad Clicked', window: { from: '2026-06-15', to: '2026-06-18' }, count: { op: 'gt', value: 2 } } })).toBe(
      'Ad Clicked more than 2 times from 2026-06-15 to 2026-06-17',
    );
    expect(describeCondition(en, { not: { trait: 'vip', op: 'is_not_empty' } })).toEqual(['Not:', '  - Trait vip is not empty']);
    // as lineage gives a behaviour's test
    expect(describeLeaf(en, { event: 'WeCom Message', window: { last: 30, unit: 'days' }, count: { op: 'gte', value: 5 } })).toBe(
      'WeCom Message at least 5 times in the last 30 days',
    );
  });
});

describe('causes', () => {
  it('reads objects, JSON text and plain kinds', () => {
    expect(parseCause({ kind: 'event', seq: 42, event: 'Order Completed' })).toEqual({ kind: 'event', seq: '42', event: 'Order Completed' });
    expect(parseCause('{"kind":"window_expired"}')).toEqual({ kind: 'window_expired' });
    expect(parseCause('event:17')).toEqual({ kind: 'event', seq: '17' });
    expect(parseCause('archived')).toEqual({ kind: 'archived' });
    expect(parseCause({ type: 'definition_changed', version: 3 })).toEqual({ kind: 'definition_changed', version: 3 });
    expect(parseCause('something new')).toEqual({ kind: 'other', raw: 'something new' });
  });

  it('describes them', () => {
    expect(describeCause(en, { kind: 'event', seq: 42, event: 'Order Completed' })).toBe('Event Order Completed (#42)');
    expect(describeCause(en, 'window_expired')).toBe('Time window expired');
    expect(describeCause(zh, 'window_expired')).toBe('时间窗口到期');
    expect(describeCause(en, { kind: 'definition_changed', version: 2 })).toBe('Definition changed (v2)');
    expect(describeCause(en, { kind: 'merged', profile_id: '01a2032f-1b2c-7d3e-8f40-123456789abc' })).toBe('Merged with another profile');
    expect(describeCause(en, 'archived')).toBe('Segment archived');
  });
});

describe('lineage events', () => {
  it('orders events oldest first whatever time field they carry', () => {
    const events = [
      { name: '首单支付', at: '2026-06-03T10:00:00Z' },
      { name: '点击广告', timestamp: '2026-06-01T10:00:00Z' },
      { name: '客服咨询', ts: Date.parse('2026-06-04T10:00:00Z') },
      { name: '注册表单', at: '2026-06-02T10:00:00Z' },
    ];
    expect(inTimeOrder(events).map((e) => e.name)).toEqual(['点击广告', '注册表单', '首单支付', '客服咨询']);
  });
});
