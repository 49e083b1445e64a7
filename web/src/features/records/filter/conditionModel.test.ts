// The filter builder ⇄ condition model conversion: complete rules only, nesting, negation,
// relative dates, round trips of conditions written by hand, and the operators of each type.
import { describe, expect, it } from 'vitest';
import type { ObjectDef } from '../../../api/types';
import {
  changeField, changeOp, countRules, emptyGroup, filterFields, fromCondition, newRule, opsFor, toCondition,
  updateNode, type Condition, type Group, type Rule,
} from './conditionModel';

function rule(field: string, op: Rule['op'], value?: unknown): Rule {
  return { kind: 'rule', id: `${field}-${op}`, field, op, value };
}

function group(combinator: 'all' | 'any', children: Group['children'], negate = false): Group {
  return { kind: 'group', id: `g-${combinator}-${children.length}`, combinator, negate, children };
}

/** Strips builder ids so trees can be compared. */
function shape(node: Group | Rule): unknown {
  if (node.kind === 'rule') return { field: node.field, op: node.op, value: node.value };
  return { combinator: node.combinator, negate: node.negate, children: node.children.map(shape) };
}

describe('toCondition', () => {
  it('is null for an empty builder', () => {
    expect(toCondition(emptyGroup())).toBeNull();
  });

  it('writes leaves with and without values', () => {
    const tree = group('all', [
      rule('amount', 'gt', '500000'),
      rule('close_date', 'this_quarter'),
      rule('stage', 'in', ['proposal', 'negotiation']),
      rule('close_date', 'last_n_days', 30),
      rule('amount', 'between', ['10', '20']),
    ]);
    expect(toCondition(tree)).toEqual({
      all: [
        { field: 'amount', op: 'gt', value: '500000' },
        { field: 'close_date', op: 'this_quarter' },
        { field: 'stage', op: 'in', value: ['proposal', 'negotiation'] },
        { field: 'close_date', op: 'last_n_days', value: 30 },
        { field: 'amount', op: 'between', value: ['10', '20'] },
      ],
    });
  });

  it('drops incomplete rules and empty groups', () => {
    const tree = group('any', [
      rule('', 'eq', 'x'),
      rule('name', 'contains', '  '),
      rule('stage', 'in', []),
      rule('amount', 'between', ['1', null]),
      rule('close_date', 'next_n_days', 0),
      group('all', [rule('name', 'eq', null)]),
      rule('name', 'starts_with', 'Al'),
    ]);
    expect(toCondition(tree)).toEqual({ any: [{ field: 'name', op: 'starts_with', value: 'Al' }] });
    expect(countRules(tree)).toBe(1);
  });

  it('nests groups and negates with not', () => {
    const tree = group('all', [
      rule('company.industry', 'eq', 'manufacturing'),
      group('any', [rule('close_date', 'this_quarter'), group('all', [rule('stage', 'in', ['closed_won', 'closed_lost'])], true)]),
    ]);
    expect(toCondition(tree)).toEqual({
      all: [
        { field: 'company.industry', op: 'eq', value: 'manufacturing' },
        {
          any: [
            { field: 'close_date', op: 'this_quarter' },
            { not: { all: [{ field: 'stage', op: 'in', value: ['closed_won', 'closed_lost'] }] } },
          ],
        },
      ],
    });
  });
});

describe('fromCondition', () => {
  it('reads the example of docs/API.md and writes it back', () => {
    const condition: Condition = {
      all: [
        { field: 'amount', op: 'gt', value: 500000 },
        { field: 'company.industry', op: 'eq', value: 'manufacturing' },
        {
          any: [
            { field: 'close_date', op: 'this_quarter' },
            { not: { all: [{ field: 'stage', op: 'in', value: ['closed_won', 'closed_lost'] }] } },
          ],
        },
      ],
    };
    expect(toCondition(fromCondition(condition))).toEqual(condition);
  });

  it('wraps a single leaf in a group and gives value-less operators no value', () => {
    const tree = fromCondition({ field: 'email', op: 'is_empty' });
    expect(shape(tree)).toEqual({ combinator: 'all', negate: false, children: [{ field: 'email', op: 'is_empty', value: undefined }] });
    expect(toCondition(tree)).toEqual({ all: [{ field: 'email', op: 'is_empty' }] });
  });

  it('turns not of a leaf into a negated group, and double negation back', () => {
    expect(toCondition(fromCondition({ not: { field: 'stage', op: 'eq', value: 'x' } }))).toEqual({
      not: { all: [{ field: 'stage', op: 'eq', value: 'x' }] },
    });
    expect(toCondition(fromCondition({ not: { not: { any: [{ field: 'a', op: 'eq', value: 1 }] } } }))).toEqual({
      any: [{ field: 'a', op: 'eq', value: 1 }],
    });
  });

  it('is an empty group for no condition and refuses garbage', () => {
    expect(toCondition(fromCondition(null))).toBeNull();
    expect(() => fromCondition({ field: 'a', op: 'like', value: 1 })).toThrow();
    expect(() => fromCondition([1])).toThrow();
  });
});

describe('editing', () => {
  it('offers the kernel operators per type', () => {
    expect(opsFor('select')).toEqual(['eq', 'ne', 'in', 'not_in', 'is_empty', 'is_not_empty']);
    expect(opsFor('date')).toContain('this_quarter');
    expect(opsFor('multi_select')).not.toContain('eq');
    expect(opsFor('boolean')).not.toContain('gt');
  });

  it('offers the new field types what the server accepts for them', () => {
    expect(opsFor('auto_number')).toEqual(opsFor('text'));
    expect(opsFor('multi_user')).toEqual(opsFor('multi_select'));
    expect(opsFor('address')).toEqual(['in', 'is_empty', 'is_not_empty']);
    expect(opsFor('attachment')).toEqual(['is_not_empty', 'is_empty']);
  });

  it('writes rules on the new field types', () => {
    const tree = group('all', [
      rule('site', 'in', ['31', '440305']),
      rule('files', 'is_not_empty'),
      rule('reviewers', 'contains', 'u1'),
      rule('reviewers', 'in', ['u1', 'u2']),
      rule('contract_no', 'starts_with', 'HT-2026'),
      rule('site', 'in', []),
    ]);
    expect(toCondition(tree)).toEqual({
      all: [
        { field: 'site', op: 'in', value: ['31', '440305'] },
        { field: 'files', op: 'is_not_empty' },
        { field: 'reviewers', op: 'contains', value: 'u1' },
        { field: 'reviewers', op: 'in', value: ['u1', 'u2'] },
        { field: 'contract_no', op: 'starts_with', value: 'HT-2026' },
      ],
    });
    const moved = changeField(rule('name', 'contains', 'x'), { path: 'files', type: 'attachment', label: { en: 'Files', zh: '附件' } });
    expect(moved).toMatchObject({ field: 'files', op: 'is_not_empty', value: undefined });
    const address = changeField(rule('name', 'in', ['x']), { path: 'site', type: 'address', label: { en: 'Site', zh: '地址' } });
    expect(address).toMatchObject({ field: 'site', op: 'in', value: [] });
  });

  it('keeps a value across operators of the same shape only', () => {
    const r = rule('amount', 'gt', '5');
    expect(changeOp(r, 'lt').value).toBe('5');
    expect(changeOp(r, 'between').value).toEqual([null, null]);
    expect(changeOp(r, 'is_empty').value).toBeUndefined();
  });

  it('picks a valid operator when the field changes', () => {
    const r = rule('name', 'contains', 'x');
    const moved = changeField(r, { path: 'stage', type: 'select', label: { en: 'Stage', zh: '阶段' } });
    expect(moved.op).toBe('eq');
    expect(moved.value).toBeNull();
  });

  it('replaces and removes nodes anywhere in the tree', () => {
    const inner = rule('b', 'eq', 2);
    const tree = group('all', [rule('a', 'eq', 1), group('any', [inner])]);
    const changed = updateNode(tree, inner.id, (n) => ({ ...(n as Rule), value: 3 }));
    expect(toCondition(changed)).toEqual({ all: [{ field: 'a', op: 'eq', value: 1 }, { any: [{ field: 'b', op: 'eq', value: 3 }] }] });
    const removed = updateNode(tree, inner.id, () => null);
    expect(toCondition(removed)).toEqual({ all: [{ field: 'a', op: 'eq', value: 1 }] });
  });

  it('lists own fields, system fields and fields one relation away', () => {
    const company: ObjectDef = {
      api_name: 'company', label: { en: 'Company', zh: '公司' }, plural_label: { en: 'Companies', zh: '公司' },
      name_field: 'name',
      fields: [
        { api_name: 'name', label: { en: 'Name', zh: '名称' }, type: 'text' },
        { api_name: 'industry', label: { en: 'Industry', zh: '行业' }, type: 'select' },
        { api_name: 'parent', label: { en: 'Parent', zh: '上级' }, type: 'relation', config: { target: 'company' } },
      ],
    };
    const deal: ObjectDef = {
      api_name: 'deal', label: { en: 'Deal', zh: '商机' }, plural_label: { en: 'Deals', zh: '商机' }, name_field: 'name',
      fields: [
        { api_name: 'name', label: { en: 'Name', zh: '名称' }, type: 'text' },
        { api_name: 'score', label: { en: 'Score', zh: '评分' }, type: 'formula', config: { result_type: 'decimal' } },
        { api_name: 'company', label: { en: 'Company', zh: '公司' }, type: 'relation', config: { target: 'company' } },
        { api_name: 'old', label: { en: 'Old', zh: '旧' }, type: 'text', archived_at: '2024-01-01T00:00:00Z' },
        { api_name: 'contract_no', label: { en: 'Contract no.', zh: '合同编号' }, type: 'auto_number', config: { format: 'HT-{YYYY}-{0000}' } },
        { api_name: 'site', label: { en: 'Site', zh: '地址' }, type: 'address' },
      ],
    };
    const fields = filterFields(deal, [company, deal]);
    const paths = fields.map((f) => f.path);
    expect(paths).toEqual([
      'name', 'score', 'company', 'contract_no', 'site', 'created_at', 'updated_at', 'owner_id', 'company.name', 'company.industry',
    ]);
    expect(fields.find((f) => f.path === 'contract_no')?.type).toBe('auto_number');
    expect(newRule(fields.find((f) => f.path === 'site')).op).toBe('in');
    expect(fields.find((f) => f.path === 'score')?.type).toBe('decimal');
    expect(newRule(fields[0]).op).toBe('contains');
  });
});
