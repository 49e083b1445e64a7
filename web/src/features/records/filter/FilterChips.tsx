// The active filter of a list as removable chips above the table ("阶段 等于 方案报价 ×"): each
// rule of the top group is one chip, a nested group one chip for the whole group; values are
// shown as the user knows them (option labels, people's, records' and regions' names, never ids
// or codes).
import { Button, Space, Tag, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { api, apiPath } from '../../../api/client';
import type { RecordBody, User } from '../../../api/types';
import { useI18n, type I18n, type MessageKey } from '../../../i18n/I18nProvider';
import { useRegions } from '../fields/useRegions';
import { emptyGroup, isComplete, toCondition, valueKind, type FilterField, type FilterNode, type Group, type Rule } from './conditionModel';

interface Props {
  filter: Group;
  fields: FilterField[];
  users?: User[];
  onChange: (filter: Group) => void;
}

export function FilterChips({ filter, fields, users, onChange }: Props) {
  const i18n = useI18n();
  const { t } = i18n;
  const active = filter.children.filter((c) => toCondition(c) !== null);
  if (active.length === 0) return null;
  // Removing one rule of an "any" or negated top group changes what the others mean: such a
  // filter is one chip.
  const whole = filter.negate || (filter.combinator === 'any' && active.length > 1);
  const remove = (node: FilterNode) => onChange({ ...filter, children: filter.children.filter((c) => c.id !== node.id) });
  const chips = whole ? [{ node: filter as FilterNode, onClose: () => onChange(emptyGroup()) }] : active.map((node) => ({ node, onClose: () => remove(node) }));
  return (
    <Space wrap size={[6, 6]} style={{ marginBottom: 8 }} data-testid="filter-chips" aria-label={t('filter.chips')}>
      {chips.map(({ node, onClose }) => {
        const text = node.kind === 'rule' ? null : groupText(i18n, node);
        return (
          <Tag
            key={node.id}
            closable
            color="blue"
            data-testid="filter-chip"
            closeIcon={<span aria-label={t('filter.removeChip', { rule: text ?? fieldLabel(i18n, fields, (node as Rule).field) })}>×</span>}
            onClose={(e) => {
              e.preventDefault();
              onClose();
            }}
          >
            {node.kind === 'rule' ? <RuleText rule={node} fields={fields} users={users} /> : text}
          </Tag>
        );
      })}
      {chips.length > 1 && (
        <Button size="small" type="link" onClick={() => onChange(emptyGroup())}>
          {t('filter.clear')}
        </Button>
      )}
    </Space>
  );
}

function groupText(i18n: I18n, group: Group): string {
  const match = group.negate ? (group.combinator === 'all' ? 'filter.notAll' : 'filter.not') : group.combinator === 'all' ? 'filter.all' : 'filter.any';
  const count = group.children.reduce((n, c) => n + countComplete(c), 0);
  return i18n.t('filter.chipGroup', { match: i18n.t(match), count });
}

function countComplete(node: FilterNode): number {
  return node.kind === 'rule' ? (isComplete(node) ? 1 : 0) : node.children.reduce((n, c) => n + countComplete(c), 0);
}

function fieldLabel(i18n: I18n, fields: FilterField[], path: string): string {
  const field = fields.find((f) => f.path === path);
  if (!field) return path;
  return field.via ? `${i18n.label(field.via)} · ${i18n.label(field.label)}` : i18n.label(field.label);
}

function RuleText({ rule, fields, users }: { rule: Rule; fields: FilterField[]; users?: User[] }) {
  const i18n = useI18n();
  const { t } = i18n;
  const field = fields.find((f) => f.path === rule.field);
  const opKey = `op.${rule.op}` as MessageKey;
  const kind = valueKind(rule.op);
  const one = (v: unknown, i: number) => <ValueText key={i} field={field} value={v} users={users} />;
  const values = kind === 'none' ? [] : kind === 'days' ? [`${String(rule.value)} ${t('filter.days')}`] : Array.isArray(rule.value) ? rule.value : [rule.value];
  const separator = kind === 'pair' ? ` ${t('filter.and')} ` : t('filter.listSeparator');
  return (
    <span>
      <Typography.Text strong style={{ fontSize: 'inherit', color: 'inherit' }}>{fieldLabel(i18n, fields, rule.field)}</Typography.Text> {t(opKey)}{' '}
      {values.map((v, i) => (
        <span key={i}>
          {i > 0 && separator}
          {kind === 'days' ? String(v) : one(v, i)}
        </span>
      ))}
    </span>
  );
}

function ValueText({ field, value, users }: { field?: FilterField; value: unknown; users?: User[] }) {
  const i18n = useI18n();
  if (value === null || value === undefined) return null;
  switch (field?.type) {
    case 'select':
    case 'multi_select': {
      const option = field.options?.find((o) => o.value === value);
      return <>{option ? i18n.label(option.label) : String(value)}</>;
    }
    case 'user':
    case 'multi_user':
      if (!users) return <>…</>;
      return <>{users.find((u) => u.id === value)?.name ?? i18n.t('common.unknownUser')}</>;
    case 'relation':
      return field.target ? <RecordName object={field.target} id={String(value)} /> : null;
    case 'address':
      return <RegionName code={String(value)} />;
    case 'boolean':
      return <>{i18n.t(value === true || value === 'true' ? 'common.yes' : 'common.no')}</>;
    case 'date':
      return <>{i18n.date(String(value))}</>;
    default:
      return <>{String(value)}</>;
  }
}

function RegionName({ code }: { code: string }) {
  const regions = useRegions();
  if (regions.isLoading) return <>…</>;
  return <>{regions.data?.index.get(code)?.label ?? code}</>;
}

function RecordName({ object, id }: { object: string; id: string }) {
  const { t } = useI18n();
  const record = useQuery({
    queryKey: ['record-name', object, id],
    queryFn: () => api.get<RecordBody>(apiPath`/api/v1/objects/${object}/records/${id}`),
    staleTime: 60_000,
  });
  if (record.isLoading) return <>…</>;
  return <>{record.data?.name ?? t('common.unnamedRecord')}</>;
}
