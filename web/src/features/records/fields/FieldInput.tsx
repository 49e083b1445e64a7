// Edits one field's value in the API's own shape (exact decimal strings, `{amount, currency}`,
// `YYYY-MM-DD`, RFC 3339, option values, record and user ids, `{code, street}`, file ids), so
// forms send what they hold. Used by record forms, inline edit, bulk edit and the filter builder.
import { DatePicker, Input, InputNumber, Select, Space, Switch } from 'antd';
import dayjs from 'dayjs';
import type { FieldDef, FieldType, Money } from '../../../api/types';
import { useUsers } from '../../../api/queries';
import { useI18n } from '../../../i18n/I18nProvider';
import { RelationSelect } from './RelationSelect';
import { AddressInput } from './AddressInput';
import { AttachmentInput } from './AttachmentInput';
import { RegionCascader } from './RegionCascader';

export const CURRENCIES = ['CNY', 'USD', 'EUR', 'HKD', 'JPY', 'GBP', 'SGD', 'TWD', 'KRW', 'AUD', 'CAD'];

export interface FieldInputProps {
  field: FieldDef;
  /** The object of the record being edited: attachments are uploaded to its field. */
  object?: string;
  /** Overrides the field's type (the filter builder compares formulas by result type). */
  type?: FieldType;
  value?: unknown;
  onChange?: (value: unknown) => void;
  /** Several values at once (filters with `in`). */
  multiple?: boolean;
  autoFocus?: boolean;
  id?: string;
  onPressEnter?: () => void;
  'aria-label'?: string;
}

export function FieldInput({ field, object, type, value, onChange, multiple, autoFocus, id, onPressEnter, ...rest }: FieldInputProps) {
  const { label, t } = useI18n();
  const users = useUsers();
  const change = (v: unknown) => onChange?.(v);
  const common = { id, autoFocus, 'aria-label': rest['aria-label'] ?? label(field.label) };
  const kind = type ?? (field.type === 'formula' ? 'text' : field.type);
  switch (kind) {
    case 'long_text':
      return <Input.TextArea {...common} autoSize={{ minRows: 2, maxRows: 8 }} value={(value as string) ?? ''} onChange={(e) => change(e.target.value)} />;
    case 'integer':
      return (
        <InputNumber
          {...common}
          style={{ width: '100%' }}
          precision={0}
          value={value as number | null}
          onChange={(v) => change(v)}
          onPressEnter={onPressEnter}
        />
      );
    case 'decimal':
    case 'percent':
      return (
        <InputNumber<string>
          {...common}
          stringMode
          style={{ width: '100%' }}
          value={value === null || value === undefined ? null : String(value)}
          onChange={(v) => change(v)}
          suffix={kind === 'percent' ? '%' : undefined}
          onPressEnter={onPressEnter}
        />
      );
    case 'currency': {
      const money: Money | null =
        value && typeof value === 'object' ? (value as Money) : value !== null && value !== undefined ? { amount: String(value), currency: field.config?.default_currency ?? 'CNY' } : null;
      const currency = money?.currency ?? field.config?.default_currency ?? 'CNY';
      return (
        <Space.Compact style={{ width: '100%' }}>
          <Select
            aria-label={`${label(field.label)} ¤`}
            style={{ width: 96 }}
            value={currency}
            options={CURRENCIES.map((c) => ({ value: c, label: c }))}
            onChange={(c) => change(money ? { ...money, currency: c } : null)}
          />
          <InputNumber<string>
            {...common}
            stringMode
            style={{ width: '100%' }}
            value={money?.amount ?? null}
            onChange={(amount) => change(amount === null || amount === '' ? null : { amount, currency })}
            onPressEnter={onPressEnter}
          />
        </Space.Compact>
      );
    }
    case 'boolean':
      if (multiple) break;
      return <Switch {...common} checked={Boolean(value)} onChange={(checked) => change(checked)} />;
    case 'date':
      return (
        <DatePicker
          {...common}
          style={{ width: '100%' }}
          value={value ? dayjs(String(value)) : null}
          onChange={(d) => change(d ? d.format('YYYY-MM-DD') : null)}
        />
      );
    case 'datetime':
      return (
        <DatePicker
          {...common}
          showTime
          style={{ width: '100%' }}
          value={value ? dayjs(String(value)) : null}
          onChange={(d) => change(d ? d.toISOString() : null)}
        />
      );
    case 'select':
    case 'multi_select':
      return (
        <Select
          {...common}
          style={{ width: '100%' }}
          allowClear
          showSearch={{ optionFilterProp: 'label' }}
          mode={multiple || kind === 'multi_select' ? 'multiple' : undefined}
          value={value ?? (multiple || kind === 'multi_select' ? [] : undefined)}
          onChange={(v) => change(v ?? null)}
          options={(field.config?.options ?? []).map((o) => ({ value: o.value, label: label(o.label) }))}
        />
      );
    case 'relation':
      return <RelationSelect {...common} target={field.config?.target ?? ''} multiple={multiple} value={value} onChange={change} />;
    case 'user':
    case 'multi_user': {
      const several = multiple || kind === 'multi_user';
      return (
        <Select
          {...common}
          style={{ width: '100%' }}
          allowClear
          showSearch={{ optionFilterProp: 'label' }}
          mode={several ? 'multiple' : undefined}
          loading={users.isLoading}
          value={value ?? (several ? [] : undefined)}
          onChange={(v) => change(v ?? null)}
          options={(users.data ?? []).map((u) => ({ value: u.id, label: u.name }))}
        />
      );
    }
    case 'address':
      // Filters take regions (`in`); records an address.
      return multiple ? (
        <RegionCascader {...common} multiple value={value} onChange={change} />
      ) : (
        <AddressInput {...common} value={value} onChange={change} onPressEnter={onPressEnter} />
      );
    case 'attachment':
      return object ? <AttachmentInput {...common} object={object} field={field} value={value} onChange={change} /> : null;
    case 'email':
    case 'phone':
    case 'url':
    case 'text':
    default:
      break;
  }
  if (multiple) {
    return (
      <Select
        {...common}
        mode="tags"
        style={{ width: '100%' }}
        value={(value as string[]) ?? []}
        onChange={(v) => change(v)}
        open={false}
        placeholder={t('filter.value')}
      />
    );
  }
  return (
    <Input
      {...common}
      type={kind === 'email' ? 'email' : kind === 'url' ? 'url' : kind === 'phone' ? 'tel' : 'text'}
      value={(value as string) ?? ''}
      onChange={(e) => change(e.target.value)}
      onPressEnter={onPressEnter}
    />
  );
}
