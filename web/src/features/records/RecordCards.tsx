// A list's records as cards, for phones, where a table would scroll sideways: each card names
// the record (a link, with a task's tick) and shows the view's next few columns as label and
// value, and its owner.
import { Card, Empty, List, Space, Typography } from 'antd';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import type { ObjectDef, RecordBody, User } from '../../api/types';
import { useI18n } from '../../i18n/I18nProvider';
import { FieldValue } from './fields/FieldValue';
import { TaskDoneButton } from './TaskDoneButton';
import { isOpenTask } from './useRecordPatch';

const SHOWN = 4;

export function RecordCards({
  object, records, columns, users, loading, empty,
}: {
  object: ObjectDef;
  records: RecordBody[];
  columns: string[];
  users?: User[];
  loading: boolean;
  empty: ReactNode;
}) {
  const { t, label } = useI18n();
  const fields = columns
    .filter((c) => c !== object.name_field)
    .map((c) => object.fields.find((f) => f.api_name === c && !f.archived_at))
    .filter((f) => f !== undefined)
    .slice(0, SHOWN);
  return (
    <List
      data-testid="record-cards"
      loading={loading}
      dataSource={records}
      locale={{ emptyText: loading ? ' ' : <Empty description={empty} /> }}
      renderItem={(r) => (
        <List.Item style={{ padding: '4px 0', border: 0 }}>
          <Card size="small" style={{ width: '100%' }} data-testid="record-card">
            <Space size={6} style={{ marginBottom: 4 }}>
              {isOpenTask(r) && <TaskDoneButton task={r} />}
              <Link to={`/o/${object.api_name}/${r.id}`} style={{ fontWeight: 600 }}>
                {r.name ?? t('common.unnamedRecord')}
              </Link>
            </Space>
            {fields.map((f) => (
              <div key={f.api_name} style={{ display: 'flex', gap: 8, fontSize: 13 }}>
                <Typography.Text type="secondary" style={{ flex: '0 0 35%' }}>
                  {label(f.label)}
                </Typography.Text>
                <span style={{ minWidth: 0, overflowWrap: 'anywhere' }}>
                  <FieldValue field={f} value={r.values[f.api_name]} record={r} users={users} />
                </span>
              </div>
            ))}
            <div style={{ display: 'flex', gap: 8, fontSize: 13 }}>
              <Typography.Text type="secondary" style={{ flex: '0 0 35%' }}>{t('common.owner')}</Typography.Text>
              <span>{users?.find((u) => u.id === r.owner_id)?.name ?? t('common.none')}</span>
            </div>
          </Card>
        </List.Item>
      )}
    />
  );
}
