// Shared page states: loading, a server error with a retry, and the message for an API error.
import { Button, Result, Spin } from 'antd';
import { ApiError } from '../api/client';
import { useI18n, type I18n, type MessageKey } from '../i18n/I18nProvider';
import { en } from '../i18n/messages';

export function PageLoading() {
  const { t } = useI18n();
  return (
    <div style={{ display: 'flex', justifyContent: 'center', padding: 64 }} role="status" aria-live="polite">
      <Spin description={t('app.loading')} />
    </div>
  );
}

/** A sentence for the user about an error from the server. */
export function errorMessage(i18n: I18n, error: unknown): string {
  const { t } = i18n;
  if (!(error instanceof ApiError)) return t('error.server', { message: String((error as Error)?.message ?? error) });
  if (error.code === 'network_error') return t('error.network');
  const byCode = `error.code.${error.code}`;
  if (byCode in en) return t(byCode as MessageKey);
  if (error.status === 403) return t('error.forbidden');
  if (error.status === 404) return t('error.notFound');
  if (error.code === 'validation_failed') return t('error.validation');
  if (error.status === 409) return t('error.conflict', { message: error.message });
  return t('error.server', { message: error.message });
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
