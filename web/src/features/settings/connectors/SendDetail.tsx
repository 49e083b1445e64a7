// One send as the test result and the log show it: its state, HTTP status, latency and
// attempts, the error, the provider's answer and what was sent — all as text in <pre>, since
// both come from outside.
import { Space, Tag, Typography } from 'antd';
import type { ReactNode } from 'react';
import { useI18n, type MessageKey } from '../../../i18n/I18nProvider';
import type { SendLog, SendState } from './api';

const STATE_COLOR: Record<SendState, string> = { sent: 'green', failed: 'red', queued: 'gold', refused: 'orange' };

const PRE = { whiteSpace: 'pre-wrap', wordBreak: 'break-all', margin: 0, fontSize: 12, maxHeight: 240, overflow: 'auto' } as const;

/** The message's fields that say something: no nulls, empty texts, lists or objects, or false. */
function given(message: SendLog['message']): Record<string, unknown> {
  const empty = (v: unknown) => v === null || v === undefined || v === '' || v === false || (typeof v === 'object' && Object.keys(v as object).length === 0);
  return Object.fromEntries(Object.entries(message).filter(([, v]) => !empty(v)));
}

export function StateTag({ state }: { state: SendState }) {
  const { t } = useI18n();
  return (
    <Tag color={STATE_COLOR[state] ?? 'default'} data-testid="send-state">
      {t(`connectors.state.${state}` as MessageKey)}
    </Tag>
  );
}

function Block({ title, testId, children }: { title: string; testId: string; children: ReactNode }) {
  return (
    <div>
      <Typography.Text type="secondary">{title}</Typography.Text>
      <pre style={PRE} data-testid={testId}>
        {children}
      </pre>
    </div>
  );
}

export function SendDetail({ log, showMessage = false }: { log: SendLog; showMessage?: boolean }) {
  const i18n = useI18n();
  const { t } = i18n;
  return (
    <Space orientation="vertical" style={{ width: '100%' }} data-testid="send-detail">
      <Space wrap size={8}>
        <StateTag state={log.state} />
        {log.status !== null && log.status !== undefined && <Tag color={log.status >= 200 && log.status < 300 ? 'green' : 'red'}>HTTP {log.status}</Tag>}
        {log.latency_ms !== null && log.latency_ms !== undefined && (
          <Typography.Text type="secondary">{t('connectors.latency', { ms: i18n.number(log.latency_ms) })}</Typography.Text>
        )}
        <Typography.Text type="secondary">
          {t('connectors.attempts')}
          {t('common.colon')}
          {i18n.number(log.attempts)}
        </Typography.Text>
      </Space>
      {log.error && (
        <Typography.Text type="danger" data-testid="send-error">
          {log.error}
        </Typography.Text>
      )}
      {showMessage && (
        <Block title={t('connectors.message')} testId="send-message">
          {JSON.stringify(given(log.message), null, 2)}
        </Block>
      )}
      <Block title={t('connectors.response')} testId="send-response">
        {log.response || t('connectors.noAnswer')}
      </Block>
      {log.request && (
        <Block title={t('connectors.request')} testId="send-request">
          {log.request}
        </Block>
      )}
    </Space>
  );
}
