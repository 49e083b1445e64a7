// Shared page states: loading, a server error with a retry, and the message for an API error.
import { Button, Spin } from 'antd';
import { lazy, Suspense } from 'react';
import { ApiError } from '../api/client';
import { useI18n } from '../i18n/I18nProvider';
import { errorMessage } from './errorMessage';

export { errorMessage };

// Ant Design's Result carries its 403, 404 and 500 illustrations (about 34 KB): loaded when an
// error is shown, not with every page.
const Result = lazy(() => import('antd/es/result'));

export function PageLoading() {
  const { t } = useI18n();
  return (
    <div style={{ display: 'flex', justifyContent: 'center', padding: 64 }} role="status" aria-live="polite">
      <Spin description={t('app.loading')} />
    </div>
  );
}

export function PageError({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const i18n = useI18n();
  const status = error instanceof ApiError && error.status === 403 ? '403' : error instanceof ApiError && error.status === 404 ? '404' : 'error';
  return (
    <Suspense fallback={null}>
      <Result
        status={status}
        title={i18n.t('app.error')}
        subTitle={errorMessage(i18n, error)}
        extra={onRetry ? <Button onClick={onRetry}>{i18n.t('app.retry')}</Button> : undefined}
      />
    </Suspense>
  );
}
