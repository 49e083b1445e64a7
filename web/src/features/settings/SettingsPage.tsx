// Administration: the object manager (objects, fields, layouts), users, teams, roles, API tokens,
// outbound and inbound webhooks, connectors, the semantic dictionary and the integration health
// map, the audit log and the job queue, each a sub-page. Only administrators get here from the menu; the server refuses everyone else
// anyway.
import { Menu, Result } from 'antd';
import { ApartmentOutlined, ApiOutlined, AuditOutlined, BookOutlined, BranchesOutlined, ClusterOutlined, DeploymentUnitOutlined, ImportOutlined, KeyOutlined, SafetyOutlined, ScheduleOutlined, TeamOutlined } from '@ant-design/icons';
import { lazy, Suspense } from 'react';
import { Navigate, Route, Routes, useLocation, useNavigate } from 'react-router';
import { useMe } from '../../api/queries';
import { useI18n } from '../../i18n/I18nProvider';
import { PageLoading } from '../../app/PageState';

const ObjectManager = lazy(() => import('./ObjectManager'));
const ObjectFields = lazy(() => import('./ObjectFields'));
const LayoutDesigner = lazy(() => import('./LayoutDesigner'));
const UsersPage = lazy(() => import('./UsersPage'));
const RolesPage = lazy(() => import('./RolesPage'));
const TeamsPage = lazy(() => import('./TeamsPage'));
const TokensPage = lazy(() => import('./TokensPage'));
const AuditPage = lazy(() => import('./AuditPage'));
const JobsPage = lazy(() => import('./jobs/JobsPage'));
const WebhooksPage = lazy(() => import('./webhooks/WebhooksPage'));
const InboundHooksPage = lazy(() => import('./inbound/InboundHooksPage'));
const ConnectorsPage = lazy(() => import('./connectors/ConnectorsPage'));
const DictionaryPage = lazy(() => import('./dictionary/DictionaryPage'));
const HealthMap = lazy(() => import('./webhooks/HealthMap'));

export default function SettingsPage() {
  const { t } = useI18n();
  const me = useMe();
  const navigate = useNavigate();
  const location = useLocation();
  const section = location.pathname.split('/')[2] ?? 'objects';
  if (me.data && !me.data.role.is_admin && section !== 'tokens') {
    return <Result status="403" title="403" subTitle={t('settings.adminOnly')} />;
  }
  return (
    <div style={{ display: 'flex', gap: 16, alignItems: 'flex-start', flexWrap: 'wrap' }}>
      <Menu
        style={{ width: 200, borderRadius: 8 }}
        selectedKeys={[section]}
        onClick={({ key }) => navigate(`/settings/${key}`)}
        items={[
          { key: 'objects', icon: <ApartmentOutlined />, label: t('settings.objects') },
          { key: 'users', icon: <TeamOutlined />, label: t('settings.users') },
          { key: 'teams', icon: <ClusterOutlined />, label: t('settings.teams') },
          { key: 'roles', icon: <SafetyOutlined />, label: t('settings.roles') },
          { key: 'tokens', icon: <KeyOutlined />, label: t('settings.tokens') },
          { key: 'webhooks', icon: <ApiOutlined />, label: t('settings.webhooks') },
          { key: 'inbound-hooks', icon: <ImportOutlined />, label: t('settings.inboundHooks') },
          { key: 'connectors', icon: <BranchesOutlined />, label: t('settings.connectors') },
          { key: 'dictionary', icon: <BookOutlined />, label: t('settings.dictionary') },
          { key: 'integration-health', icon: <DeploymentUnitOutlined />, label: t('settings.health') },
          { key: 'audit', icon: <AuditOutlined />, label: t('settings.audit') },
          { key: 'jobs', icon: <ScheduleOutlined />, label: t('settings.jobs') },
        ]}
      />
      <div style={{ flex: 1, minWidth: 320 }}>
        <Suspense fallback={<PageLoading />}>
          <Routes>
            <Route index element={<Navigate to="objects" replace />} />
            <Route path="objects" element={<ObjectManager />} />
            <Route path="objects/:object" element={<ObjectFields />} />
            <Route path="objects/:object/layout" element={<LayoutDesigner />} />
            <Route path="users" element={<UsersPage />} />
            <Route path="teams" element={<TeamsPage />} />
            <Route path="roles" element={<RolesPage />} />
            <Route path="tokens" element={<TokensPage />} />
            <Route path="webhooks" element={<WebhooksPage />} />
            <Route path="inbound-hooks" element={<InboundHooksPage />} />
            <Route path="connectors" element={<ConnectorsPage />} />
            <Route path="dictionary" element={<DictionaryPage />} />
            <Route path="integration-health" element={<HealthMap />} />
            <Route path="audit" element={<AuditPage />} />
            <Route path="jobs" element={<JobsPage />} />
          </Routes>
        </Suspense>
      </div>
    </div>
  );
}
