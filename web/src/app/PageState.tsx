// Shared page states: loading, a server error with a retry, and the message for an API error.
import { Button, Result, Spin } from 'antd';
import { ApiError } from '../api/client';
import { useI18n } from '../i18n/I18nProvider';
import { errorMessage } from './errorMessage';

export { errorMessage };

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
    <Result
      status={status}
      title={i18n.t('app.error')}
      subTitle={errorMessage(i18n, error)}
      extra={onRetry ? <Button onClick={onRetry}>{i18n.t('app.retry')}</Button> : undefined}
    />
  );
}
