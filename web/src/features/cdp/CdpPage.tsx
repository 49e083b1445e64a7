// Customer data (客户数据): data health, sources and write keys, the schema registry, identity
// settings, customer profiles and segments, each a sub-page loaded on demand. Administrators
// see all of them; everyone else who may read contacts sees profiles and segments (the server
// enforces the same).
import { Menu, Result } from 'antd';
import { ApartmentOutlined, DashboardOutlined, DatabaseOutlined, IdcardOutlined, SettingOutlined, TeamOutlined } from '@ant-design/icons';
import { lazy, Suspense } from 'react';
import { Navigate, Route, Routes, useLocation, useNavigate } from 'react-router';
import { useI18n } from '../../i18n/I18nProvider';
import { PageLoading } from '../../app/PageState';
import { useCdpAccess } from './api';

const HealthPage = lazy(() => import('./HealthPage'));
const SourcesPage = lazy(() => import('./SourcesPage'));
const RegistryPage = lazy(() => import('./RegistryPage'));
const IdentitySettingsPage = lazy(() => import('./IdentitySettingsPage'));
const ProfilesPage = lazy(() => import('./ProfilesPage'));
const ProfilePage = lazy(() => import('./ProfilePage'));
const SegmentsPage = lazy(() => import('../segments/SegmentsPage'));
const SegmentPage = lazy(() => import('../segments/SegmentPage'));
const SegmentEditPage = lazy(() => import('../segments/SegmentEditPage'));

const ADMIN_SECTIONS = ['health', 'sources', 'registry', 'settings'];

export default function CdpPage() {
  const { t } = useI18n();
  const { isAdmin, canReadContacts } = useCdpAccess();
  const navigate = useNavigate();
  const location = useLocation();
  const section = location.pathname.split('/')[2] ?? '';
  if (!canReadContacts || (!isAdmin && ADMIN_SECTIONS.includes(section))) {
    return <Result status="403" title="403" subTitle={t('cdp.adminOnly')} />;
  }
  const items = [
    ...(isAdmin
      ? [
          { key: 'health', icon: <DashboardOutlined />, label: t('cdp.health.title') },
          { key: 'sources', icon: <DatabaseOutlined />, label: t('cdp.sources.title') },
          { key: 'registry', icon: <ApartmentOutlined />, label: t('cdp.registry.title') },
          { key: 'settings', icon: <SettingOutlined />, label: t('cdp.identity.title') },
        ]
      : []),
    { key: 'profiles', icon: <IdcardOutlined />, label: t('cdp.profiles.title') },
    { key: 'segments', icon: <TeamOutlined />, label: t('segments.title') },
  ];
  return (
    <div style={{ display: 'flex', gap: 16, alignItems: 'flex-start', flexWrap: 'wrap' }}>
      <Menu
        style={{ width: 200, borderRadius: 8 }}
        selectedKeys={[section]}
        onClick={({ key }) => navigate(`/cdp/${key}`)}
        items={items}
        aria-label={t('cdp.nav')}
        data-testid="cdp-menu"
      />
      <div style={{ flex: 1, minWidth: 320 }}>
        <Suspense fallback={<PageLoading />}>
          <Routes>
            <Route index element={<Navigate to={isAdmin ? 'health' : 'profiles'} replace />} />
            <Route path="health" element={<HealthPage />} />
            <Route path="sources" element={<SourcesPage />} />
            <Route path="registry" element={<RegistryPage />} />
            <Route path="settings" element={<IdentitySettingsPage />} />
            <Route path="profiles" element={<ProfilesPage />} />
            <Route path="profiles/:id" element={<ProfilePage />} />
            <Route path="segments" element={<SegmentsPage />} />
            <Route path="segments/new" element={<SegmentEditPage />} />
            <Route path="segments/:id" element={<SegmentPage />} />
            <Route path="segments/:id/edit" element={<SegmentEditPage />} />
          </Routes>
        </Suspense>
      </div>
    </div>
  );
}
