// The visual filter builder: nested groups (all / any / none of) of rules (field, operator,
// value) over any field of the object or one relation away, with relative dates. It edits a
// `Group` tree; `toCondition` turns it into the kernel's condition JSON.
import { Button, InputNumber, Select, Space, Typography } from 'antd';
import { DeleteOutlined, PlusOutlined, ApartmentOutlined } from '@ant-design/icons';
import type { FieldDef, FieldType } from '../../../api/types';
import { useI18n } from '../../../i18n/I18nProvider';
import { FieldInput } from '../fields/FieldInput';
import {
  changeField, changeOp, emptyGroup, newRule, opsFor, updateNode, valueKind, type FilterField, type FilterNode, type Group,
  type Rule,
} from './conditionModel';

interface Props {
  value: Group;
  onChange: (next: Group) => void;
  fields: FilterField[];
}

/**
 * How a value is typed in a rule: amounts as plain numbers, formulas by result type, and one
 * option or user of a multiple field at a time (several only for `in`, which asks for a list).
 */
function inputType(field: FilterField): FieldType {
  switch (field.type) {
    case 'currency':
      return 'decimal';
    case 'multi_select':
      return 'select';
    case 'multi_user':
      return 'user';
    default:
      return field.type;
  }
}

/** A FieldDef stand-in so value inputs know options, targets and currencies. */
function asFieldDef(field: FilterField): FieldDef {
  return {
    api_name: field.path,
    label: field.label,
    type: field.type,
    config: { options: field.options ?? [], target: field.target ?? null },
  };
}

export function FilterBuilder({ value, onChange, fields }: Props) {
  const { t } = useI18n();
  const update = (id: string, fn: (node: FilterNode) => FilterNode | null) => onChange(updateNode(value, id, fn));
  return (
    <div data-testid="filter-builder">
      <GroupEditor group={value} root fields={fields} update={update} />
      {value.children.length === 0 && (
        <Typography.Paragraph type="secondary" style={{ marginTop: 8 }}>
          {t('filter.noRules')}
        </Typography.Paragraph>
      )}
    </div>
  );
}

interface GroupProps {
  group: Group;
  root?: boolean;
  fields: FilterField[];
  update: (id: string, fn: (node: FilterNode) => FilterNode | null) => void;
}

function GroupEditor({ group, root, fields, update }: GroupProps) {
  const { t } = useI18n();
  // "None of" is not(any); a negated all (read from a saved condition) is "not all of".
  const mode = group.negate ? (group.combinator === 'any' ? 'not' : 'notAll') : group.combinator;
  const setMode = (next: string) =>
    update(group.id, (n) => ({
      ...(n as Group),
      combinator: next === 'any' || next === 'not' ? 'any' : 'all',
      negate: next === 'not' || next === 'notAll',
    }));
  const add = (node: FilterNode) => update(group.id, (n) => ({ ...(n as Group), children: [...(n as Group).children, node] }));
  return (
    <div
      role="group"
      style={{
        border: root ? undefined : '1px solid #e5e7eb',
        borderRadius: 6,
        padding: root ? 0 : 8,
        background: root ? undefined : '#fafbfc',
      }}
    >
      <Space wrap style={{ marginBottom: 8 }}>
        <Typography.Text>{t('filter.match')}</Typography.Text>
        <Select
          size="small"
          value={mode}
          onChange={setMode}
          style={{ width: 120 }}
          aria-label={t('filter.match')}
          options={[
            { value: 'all', label: t('filter.all') },
            { value: 'any', label: t('filter.any') },
            { value: 'not', label: t('filter.not') },
            { value: 'notAll', label: t('filter.notAll') },
          ]}
        />
        {!root && (
          <Button size="small" type="text" danger icon={<DeleteOutlined />} onClick={() => update(group.id, () => null)}>
            {t('filter.removeGroup')}
          </Button>
        )}
      </Space>
      <div style={{ display: 'flex', flexDirection: 'column', gap: 8, paddingInlineStart: root ? 0 : 8 }}>
        {group.children.map((child) =>
          child.kind === 'group' ? (
            <GroupEditor key={child.id} group={child} fields={fields} update={update} />
          ) : (
            <RuleEditor key={child.id} rule={child} fields={fields} update={update} />
          ),
        )}
      </div>
      <Space style={{ marginTop: 8 }}>
        <Button size="small" icon={<PlusOutlined />} onClick={() => add(newRule(fields[0]))}>
          {t('filter.addRule')}
        </Button>
        <Button size="small" icon={<ApartmentOutlined />} onClick={() => add({ ...emptyGroup('any'), children: [newRule(fields[0])] })}>
          {t('filter.addGroup')}
        </Button>
      </Space>
    </div>
  );
}

export interface RuleProps {
  rule: Rule;
  fields: FilterField[];
  update: (id: string, fn: (node: FilterNode) => FilterNode | null) => void;
}

/** One rule (field, operator, value); also used by the segment builder for contact fields. */
export function RuleEditor({ rule, fields, update }: RuleProps) {
  const { t, label } = useI18n();
  const field = fields.find((f) => f.path === rule.field);
  const set = (next: Partial<Rule>) => update(rule.id, (n) => ({ ...(n as Rule), ...next }));
  const kind = valueKind(rule.op);
  const fieldDef = field ? asFieldDef(field) : null;
  const pair = Array.isArray(rule.value) ? (rule.value as unknown[]) : [null, null];
  return (
    <div style={{ display: 'flex', flexWrap: 'wrap', gap: 8, alignItems: 'center' }} data-testid="filter-rule">
      <Select
        showSearch={{ optionFilterProp: 'label' }}
        style={{ width: 200 }}
        value={rule.field || undefined}
        placeholder={t('filter.field')}
        aria-label={t('filter.field')}
        onChange={(path) => {
          const next = fields.find((f) => f.path === path);
          if (next) update(rule.id, (n) => changeField(n as Rule, next));
        }}
        options={fields.map((f) => ({
          value: f.path,
          label: f.via ? `${label(f.via)} › ${label(f.label)}` : label(f.label),
        }))}
      />
      <Select
        style={{ width: 150 }}
        value={rule.op}
        aria-label={t('filter.operator')}
        onChange={(op) => update(rule.id, (n) => changeOp(n as Rule, op))}
        options={(field ? opsFor(field.type) : []).map((op) => ({ value: op, label: t(`op.${op}`) }))}
      />
      {fieldDef && kind === 'single' && field?.type === 'boolean' && (
        <Select
          style={{ width: 120 }}
          value={rule.value as boolean | null}
          aria-label={t('filter.value')}
          onChange={(v) => set({ value: v })}
          options={[
            { value: true, label: t('common.yes') },
            { value: false, label: t('common.no') },
          ]}
        />
      )}
      {fieldDef && kind === 'single' && field?.type !== 'boolean' && (
        <div style={{ minWidth: 180, flex: '1 1 180px' }}>
          <FieldInput field={fieldDef} type={field ? inputType(field) : undefined} value={rule.value} onChange={(v) => set({ value: v })} aria-label={t('filter.value')} />
        </div>
      )}
      {fieldDef && kind === 'list' && (
        <div style={{ minWidth: 200, flex: '1 1 200px' }}>
          <FieldInput field={fieldDef} type={field ? inputType(field) : undefined} multiple value={rule.value} onChange={(v) => set({ value: v })} aria-label={t('filter.value')} />
        </div>
      )}
      {fieldDef && kind === 'pair' && (
        <Space.Compact style={{ minWidth: 260, flex: '1 1 260px' }}>
          <FieldInput field={fieldDef} type={field ? inputType(field) : undefined} value={pair[0]} onChange={(v) => set({ value: [v, pair[1]] })} aria-label={t('filter.value')} />
          <Typography.Text style={{ padding: '4px 8px' }}>{t('filter.and')}</Typography.Text>
          <FieldInput field={fieldDef} type={field ? inputType(field) : undefined} value={pair[1]} onChange={(v) => set({ value: [pair[0], v] })} aria-label={t('filter.value')} />
        </Space.Compact>
      )}
      {kind === 'days' && (
        <InputNumber
          min={1}
          max={3650}
          precision={0}
          value={rule.value as number}
          onChange={(v) => set({ value: v })}
          suffix={t('filter.days')}
          aria-label={t('filter.days')}
        />
      )}
      <Button type="text" danger icon={<DeleteOutlined />} aria-label={t('common.remove')} onClick={() => update(rule.id, () => null)} />
    </div>
  );
}
