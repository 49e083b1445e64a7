// The frame of every signed-in page: the menu built from metadata (a new custom object appears
// without a deploy), the header with global search (Ctrl/⌘+K), language switch and account
// menu. On phones the menu is a drawer behind a button, so pages get the whole width. Sends
// signed-out visitors to the login page and brings them back afterwards.
import { Avatar, Button, Drawer, Dropdown, Layout, Menu, Segmented, Tooltip, Typography, Grid } from 'antd';
import { ClusterOutlined, DashboardOutlined, LogoutOutlined, MenuOutlined, SearchOutlined, SettingOutlined } from '@ant-design/icons';
import { lazy, Suspense, useEffect, useMemo, useState } from 'react';
import { Navigate, Outlet, useLocation, useNavigate } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { api, ApiError, setUnauthenticatedHandler } from '../api/client';
import { keys, useMe, useObjects } from '../api/queries';
import { useI18n, type Locale } from '../i18n/I18nProvider';
import { objectIcon } from './objectIcons';
import { PageError, PageLoading } from './PageState';

const SearchPalette = lazy(() => import('../features/search/SearchPalette'));

export function AppShell() {
  const i18n = useI18n();
  const { t, label, locale, setLocale } = i18n;
  const me = useMe();
  const objects = useObjects();
  const navigate = useNavigate();
  const location = useLocation();
  const client = useQueryClient();
  const [searchOpen, setSearchOpen] = useState(false);
  const screens = Grid.useBreakpoint();
  const [collapsed, setCollapsed] = useState<boolean | null>(null);
  const siderCollapsed = collapsed ?? !screens.xl;
  const phone = screens.sm === false;
  const [drawerOpen, setDrawerOpen] = useState(false);

  useEffect(() => {
    setUnauthenticatedHandler(() => {
      client.setQueryData(keys.me, null);
      client.removeQueries({ predicate: (q) => q.queryKey[0] !== 'me' });
    });
  }, [client]);

  // The user's saved language wins once the session is known.
  const userLocale = me.data?.user.locale;
  useEffect(() => {
    if (userLocale === 'en' || userLocale === 'zh-CN') setLocale(userLocale);
  }, [userLocale, setLocale]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'k') {
        event.preventDefault();
        setSearchOpen(true);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const selected = useMemo(() => {
    const parts = location.pathname.split('/').filter(Boolean);
    if (parts[0] === 'o' && parts[1]) return `/o/${parts[1]}`;
    if (parts[0] === 'settings') return '/settings';
    if (parts[0] === 'cdp') return '/cdp';
    return '/';
  }, [location.pathname]);

  if (me.isLoading) return <PageLoading />;
  if (me.data === null || (me.error instanceof ApiError && me.error.status === 401)) {
    return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  }
  if (me.error || !me.data) return <PageError error={me.error} onRetry={() => me.refetch()} />;

  const { user, role } = me.data;
  const changeLocale = (next: Locale) => {
    setLocale(next);
    api.patch('/api/v1/auth/me', { locale: next }).then(() => client.invalidateQueries({ queryKey: keys.me }));
  };
  const logout = async () => {
    await api.post('/api/v1/auth/logout').catch(() => undefined);
    client.clear();
    navigate('/login', { replace: true });
  };

  const objectItems = (objects.data ?? [])
    .filter((o) => !o.archived_at)
    .map((o) => ({ key: `/o/${o.api_name}`, icon: objectIcon(o.api_name), label: label(o.plural_label) }));
  const items = [
    { key: '/', icon: <DashboardOutlined />, label: t('nav.dashboard') },
    { type: 'group' as const, key: 'objects', label: t('nav.objects'), children: objectItems },
    ...(role.is_admin || objects.data?.some((o) => o.api_name === 'contact') ? [{ key: '/cdp', icon: <ClusterOutlined />, label: t('cdp.nav') }] : []),
    ...(role.is_admin ? [{ key: '/settings', icon: <SettingOutlined />, label: t('nav.settings') }] : []),
  ];

  const menu = (
    <Menu
      mode="inline"
      selectedKeys={[selected]}
      items={items}
      onClick={({ key }) => {
        setDrawerOpen(false);
        navigate(key);
      }}
      aria-label={t('nav.objects')}
      style={{ borderInlineEnd: 'none' }}
    />
  );

  return (
    <Layout style={{ minHeight: '100vh' }}>
      {!phone && (
        <Layout.Sider
          theme="light"
          collapsible
          collapsed={siderCollapsed}
          onCollapse={(value) => setCollapsed(value)}
          width={216}
          style={{ borderRight: '1px solid #f0f0f0' }}
        >
          <div style={{ height: 56, display: 'flex', alignItems: 'center', gap: 8, padding: '0 20px', fontWeight: 600, fontSize: 18 }}>
            <Avatar shape="square" size={28} style={{ background: '#1f6feb', flex: 'none' }}>R</Avatar>
            {!siderCollapsed && <span>{t('app.name')}</span>}
          </div>
          {menu}
        </Layout.Sider>
      )}
      {phone && (
        <Drawer open={drawerOpen} onClose={() => setDrawerOpen(false)} placement="left" size={240} title={t('app.name')} styles={{ body: { padding: 0 } }}>
          {menu}
        </Drawer>
      )}
      <Layout>
        <Layout.Header
          style={{ background: '#fff', padding: '0 16px', display: 'flex', alignItems: 'center', gap: 12, borderBottom: '1px solid #f0f0f0', height: 56 }}
        >
          {phone && <Button icon={<MenuOutlined />} onClick={() => setDrawerOpen(true)} aria-label={t('nav.menu')} data-testid="open-menu" />}
          <Button
            icon={<SearchOutlined />}
            onClick={() => setSearchOpen(true)}
            style={{ flex: '0 1 360px', justifyContent: 'flex-start', color: '#888' }}
            aria-label={t('search.shortcut')}
          >
            {screens.md ? t('search.shortcut') : null}
          </Button>
          <div style={{ flex: 1 }} />
          <Tooltip title={t('nav.language')}>
            <Segmented<Locale>
              value={locale}
              onChange={changeLocale}
              options={[
                { label: '中文', value: 'zh-CN' },
                { label: 'EN', value: 'en' },
              ]}
              aria-label={t('nav.language')}
              data-testid="language-switch"
            />
          </Tooltip>
          <Dropdown
            menu={{
              items: [
                { key: 'who', label: <Typography.Text type="secondary">{user.email}</Typography.Text>, disabled: true },
                { type: 'divider' },
                { key: 'logout', icon: <LogoutOutlined />, label: t('auth.logout'), onClick: logout },
              ],
            }}
          >
            <Button type="text" aria-label={t('nav.account')}>
              <Avatar size="small" style={{ background: '#87d068' }}>{user.name.slice(0, 1).toUpperCase()}</Avatar>
              {screens.md && <span style={{ marginInlineStart: 8 }}>{user.name}</span>}
            </Button>
          </Dropdown>
        </Layout.Header>
        <Layout.Content style={{ padding: phone ? 8 : 16, minWidth: 0 }}>
          <Outlet />
        </Layout.Content>
      </Layout>
      {searchOpen && (
        <Suspense fallback={null}>
          <SearchPalette open={searchOpen} onClose={() => setSearchOpen(false)} />
        </Suspense>
      )}
    </Layout>
  );
}
