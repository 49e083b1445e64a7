// The audit log (administrators): logins, permission denials, metadata, user, role and token
// changes and exports, newest first.
import { Table, Tag, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { api } from '../../api/client';
import { useUsers } from '../../api/queries';
import type { AuditEntry } from '../../api/types';
import { useI18n } from '../../i18n/I18nProvider';
import { PageError } from '../../app/PageState';

const OUTCOME_COLOR: Record<string, string> = { success: 'green', failure: 'orange', denied: 'red' };

export default function AuditPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const users = useUsers();
  const entries = useQuery({ queryKey: ['audit'], queryFn: () => api.get<AuditEntry[]>('/api/v1/audit') });
  if (entries.error) return <PageError error={entries.error} onRetry={() => entries.refetch()} />;
  return (
    <div>
      <Typography.Title level={4}>{t('settings.audit')}</Typography.Title>
      <Table<AuditEntry>
        rowKey="id"
        size="small"
        loading={entries.isLoading}
        dataSource={entries.data ?? []}
        scroll={{ x: 'max-content' }}
        columns={[
          { key: 'at', title: t('settings.at'), render: (_, e) => i18n.dateTime(e.at) },
          { key: 'actor', title: t('settings.actor'), render: (_, e) => users.data?.find((u) => u.id === e.actor_id)?.name ?? e.actor_id ?? t('common.none') },
          { key: 'action', title: t('settings.action'), render: (_, e) => <Typography.Text code>{e.action}</Typography.Text> },
          { key: 'target', title: t('settings.target.col'), dataIndex: 'target' },
          { key: 'outcome', title: t('settings.outcome'), render: (_, e) => <Tag color={OUTCOME_COLOR[e.outcome]}>{e.outcome}</Tag> },
        ]}
      />
    </div>
  );
}
