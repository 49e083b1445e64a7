// Entry point: providers (server state, language, Ant Design theme and locale) around the
// router. Pages are loaded on demand (see app/routes.tsx); a list view opened directly has its
// data requested before the first render (app/preload.ts).
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { BrowserRouter } from 'react-router';
import { I18nProvider } from './i18n/I18nProvider';
import { ThemedApp } from './app/ThemedApp';
import './app/app.css';
import { ApiError } from './api/client';
import { preloadListView } from './app/preload';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      retry: (count, error) => !(error instanceof ApiError && error.status >= 400 && error.status < 500) && count < 2,
      refetchOnWindowFocus: false,
    },
  },
});

preloadListView(queryClient, window.location.pathname, window.location.search);

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <I18nProvider>
          <BrowserRouter>
            <ThemedApp />
          </BrowserRouter>
        </I18nProvider>
      </QueryClientProvider>
    </StrictMode>,
  );
}
