// The audit log (administrators): logins, permission denials, metadata, user, role and token
// changes and exports, newest first — each action in the reader's language and each target by
// name (auditText).
import { Table, Tag, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api } from '../../api/client';
import { useObjects, useTeams, useUsers } from '../../api/queries';
import type { ApiToken, AuditEntry, Role } from '../../api/types';
import { useI18n, type MessageKey } from '../../i18n/I18nProvider';
import { PageError } from '../../app/PageState';
import type { Segment } from '../segments/api';
import { actionKey, auditTarget, type AuditLookups, type TargetText } from './auditText';
import { roleName } from './roleName';

const OUTCOME_COLOR: Record<string, string> = { success: 'green', failure: 'orange', denied: 'red' };

export default function AuditPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const users = useUsers();
  const objects = useObjects();
  const roles = useQuery({ queryKey: ['roles'], queryFn: () => api.get<Role[]>('/api/v1/roles') });
  const tokens = useQuery({ queryKey: ['tokens'], queryFn: () => api.get<ApiToken[]>('/api/v1/tokens') });
  const segments = useQuery({ queryKey: ['segments', 'list'], queryFn: () => api.get<Segment[]>('/api/v1/cdp/segments') });
  const teams = useTeams();
  const entries = useQuery({ queryKey: ['audit'], queryFn: () => api.get<AuditEntry[]>('/api/v1/audit') });
  if (entries.error) return <PageError error={entries.error} onRetry={() => entries.refetch()} />;
  const lookups: AuditLookups = {
    objects: objects.data ?? [],
    users: users.data ?? [],
    roles: roles.data ?? [],
    tokens: tokens.data ?? [],
    segments: segments.data ?? [],
    teams: teams.data ?? [],
  };
  const target = (text: TargetText) => {
    switch (text.kind) {
      case 'none':
        return t('common.none');
      case 'missing':
        return <Typography.Text type="secondary">{t('audit.target.deleted', { what: t(text.what) })}</Typography.Text>;
      case 'kind':
        return <Link to={text.to}>{t(text.what)}</Link>;
      case 'role':
        return roleName(i18n, text.role);
      default: {
        const shown = text.kind === 'label' ? i18n.label(text.label) : text.text;
        return text.to ? <Link to={text.to}>{shown}</Link> : shown;
      }
    }
  };
  return (
    <div>
      <Typography.Title level={4}>{t('settings.audit')}</Typography.Title>
      <Table<AuditEntry>
        rowKey="id"
        size="small"
        loading={entries.isLoading}
        dataSource={entries.data ?? []}
        scroll={{ x: 'max-content' }}
        data-testid="audit-log"
        columns={[
          { key: 'at', title: t('settings.at'), render: (_, e) => i18n.dateTime(e.at) },
          {
            key: 'actor',
            title: t('settings.actor'),
            render: (_, e) => (e.actor_id ? users.data?.find((u) => u.id === e.actor_id)?.name ?? t('audit.target.deleted', { what: t('audit.target.user') }) : t('history.system')),
          },
          {
            key: 'action',
            title: t('settings.action'),
            render: (_, e) => {
              const key = actionKey(e.action);
              return <span data-action={e.action}>{key ? t(key) : e.action}</span>;
            },
          },
          { key: 'target', title: t('settings.target.col'), render: (_, e) => target(auditTarget(e, lookups)) },
          {
            key: 'outcome',
            title: t('settings.outcome'),
            render: (_, e) => <Tag color={OUTCOME_COLOR[e.outcome]}>{t(`audit.outcome.${e.outcome}` as MessageKey)}</Tag>,
          },
        ]}
      />
    </div>
  );
}
