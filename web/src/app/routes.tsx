// The route table. Every page is its own chunk (React.lazy), so the login page and the first
// list view load only what they need.
import { lazy, Suspense, type ReactNode } from 'react';
import { Route, Routes } from 'react-router';
import { PageLoading } from './PageState';
import { AppShell } from './AppShell';

const LoginPage = lazy(() => import('../features/auth/LoginPage'));
const DashboardPage = lazy(() => import('../features/home/DashboardPage'));
const loadListPage = () => import('../features/records/ListPage');
const ListPage = lazy(loadListPage);
const RecordPage = lazy(() => import('../features/records/RecordPage'));
const KanbanPage = lazy(() => import('../features/kanban/KanbanPage'));
const RecycleBinPage = lazy(() => import('../features/records/RecycleBinPage'));
const SettingsPage = lazy(() => import('../features/settings/SettingsPage'));
const CdpPage = lazy(() => import('../features/cdp/CdpPage'));
const SearchPage = lazy(() => import('../features/search/SearchPage'));
const NotFoundPage = lazy(() => import('./NotFoundPage'));

// A list opened directly (a link, a reload) starts loading its page while the session loads.
if (/^\/o\/[^/]+\/?$/.test(window.location.pathname)) void loadListPage();

function page(element: ReactNode) {
  return <Suspense fallback={<PageLoading />}>{element}</Suspense>;
}

export function AppRoutes() {
  return (
    <Routes>
      <Route path="/login" element={page(<LoginPage />)} />
      <Route element={<AppShell />}>
        <Route index element={page(<DashboardPage />)} />
        <Route path="o/:object" element={page(<ListPage />)} />
        <Route path="o/:object/kanban" element={page(<KanbanPage />)} />
        <Route path="o/:object/recycle-bin" element={page(<RecycleBinPage />)} />
        <Route path="o/:object/:id" element={page(<RecordPage />)} />
        <Route path="settings/*" element={page(<SettingsPage />)} />
        <Route path="search" element={page(<SearchPage />)} />
        <Route path="cdp/*" element={page(<CdpPage />)} />
        <Route path="*" element={page(<NotFoundPage />)} />
      </Route>
    </Routes>
  );
}
