// Shows one field's value for reading, by type: options as coloured tags, money and numbers
// formatted for the locale, dates as calendar days, relations as links to the record, users by
// name, emails, phones and URLs as links, addresses as one line, attached files as thumbnails or
// links.
import { Tag, Typography } from 'antd';
import { CheckOutlined, MinusOutlined } from '@ant-design/icons';
import { Link } from 'react-router';
import type { AddressValue, FieldDef, Money, RecordBody, User } from '../../../api/types';
import { useI18n } from '../../../i18n/I18nProvider';
import { addressText } from './address';
import { AttachmentList } from './AttachmentList';
import { asFiles } from './files';

export interface FieldValueProps {
  field: FieldDef;
  value: unknown;
  /** The record the value belongs to (its `expanded` relations name the linked records). */
  record?: RecordBody;
  users?: User[];
}

function isMoney(value: unknown): value is Money {
  return typeof value === 'object' && value !== null && 'amount' in value && 'currency' in value;
}

export function FieldValue({ field, value, record, users }: FieldValueProps) {
  const i18n = useI18n();
  const { t, label } = i18n;
  if (value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) {
    return <Typography.Text type="secondary">{t('common.none')}</Typography.Text>;
  }
  const type = field.type === 'formula' ? field.config?.result_type ?? 'text' : field.type;
  switch (type) {
    case 'select': {
      const option = field.config?.options?.find((o) => o.value === value);
      return <Tag color={option?.color ?? undefined}>{option ? label(option.label) : String(value)}</Tag>;
    }
    case 'multi_select':
      return (
        <>
          {(value as string[]).map((v) => {
            const option = field.config?.options?.find((o) => o.value === v);
            return (
              <Tag key={v} color={option?.color ?? undefined}>
                {option ? label(option.label) : v}
              </Tag>
            );
          })}
        </>
      );
    case 'currency':
      return isMoney(value) ? <span className="num">{i18n.money(value.amount, value.currency)}</span> : <span>{String(value)}</span>;
    case 'decimal':
    case 'integer':
      return <span className="num">{i18n.number(value as string | number)}</span>;
    case 'percent':
      return <span className="num">{i18n.percent(value as string)}</span>;
    case 'boolean':
      return value ? (
        <span aria-label={t('common.yes')}><CheckOutlined style={{ color: '#52c41a' }} /> {t('common.yes')}</span>
      ) : (
        <span aria-label={t('common.no')}><MinusOutlined /> {t('common.no')}</span>
      );
    case 'date':
      return <span>{i18n.date(String(value))}</span>;
    case 'datetime':
      return <span>{i18n.dateTime(String(value))}</span>;
    case 'email':
      return <a href={`mailto:${value}`}>{String(value)}</a>;
    case 'phone':
      return <a href={`tel:${value}`}>{String(value)}</a>;
    case 'url':
      return (
        <a href={String(value)} target="_blank" rel="noreferrer noopener">
          {String(value)}
        </a>
      );
    case 'relation': {
      const linked = record?.expanded?.[field.api_name] as RecordBody | undefined;
      const target = field.config?.target;
      return <Link to={`/o/${target}/${value}`}>{linked?.name ?? t('common.unnamedRecord')}</Link>;
    }
    case 'user': {
      const user = users?.find((u) => u.id === value);
      return <span>{user?.name ?? t('common.unknownUser')}</span>;
    }
    case 'multi_user':
      return (
        <>
          {(Array.isArray(value) ? (value as string[]) : []).map((id) => (
            <Tag key={id}>{users?.find((u) => u.id === id)?.name ?? t('common.unknownUser')}</Tag>
          ))}
        </>
      );
    case 'address':
      return <span>{typeof value === 'object' ? addressText(value as AddressValue) : String(value)}</span>;
    case 'attachment':
      return <AttachmentList files={asFiles(value, t('field.file'))} />;
    case 'long_text':
      return <span style={{ whiteSpace: 'pre-wrap' }}>{String(value)}</span>;
    default:
      return <span>{String(value)}</span>;
  }
}
