// A CRM value as its field shows it: a select option's label beside its value, a text as typed.
import { Space, Typography } from 'antd';
import type { FieldDef } from '../../../api/types';
import { useI18n } from '../../../i18n/I18nProvider';
import { optionsOf } from './model';

export function CrmValue({ field, value }: { field: FieldDef | undefined; value: string }) {
  const { label } = useI18n();
  const option = optionsOf(field).find((o) => o.value === value);
  if (!option) return <Typography.Text code>{value}</Typography.Text>;
  return (
    <Space size={4} wrap>
      <span>{label(option.label)}</span>
      <Typography.Text type="secondary" code>
        {value}
      </Typography.Text>
    </Space>
  );
}
