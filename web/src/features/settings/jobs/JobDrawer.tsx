// One job: what it is, its payload (shown as text), every attempt with its node, times and
// error, and the actions its state allows (retry, cancel, discard), each a mutation.
import { Alert, App, Button, Descriptions, Drawer, Popconfirm, Space, Table, Tag, Typography } from 'antd';
import { errorMessage } from '../../../app/PageState';
import { useI18n } from '../../../i18n/I18nProvider';
import type { MessageKey } from '../../../i18n/messages';
import { useJob, useJobAction, type Attempt } from './api';
import { canCancel, canDiscard, canRetry, payloadText, STATE_COLOR, stateLabel } from './model';

const OUTCOME_COLOR: Record<string, string> = { done: 'green', failed: 'orange', lost: 'volcano', cancelled: 'default' };

export default function JobDrawer({ id, onClose }: { id: string | null; onClose: () => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const { message } = App.useApp();
  const job = useJob(id);
  const retry = useJobAction('retry');
  const cancel = useJobAction('cancel');
  const discard = useJobAction('discard');
  const failed = (error: unknown) => message.error(errorMessage(i18n, error));
  const when = (value?: string | null) => (value ? i18n.dateTime(value) : t('common.none'));
  const detail = job.data;
  const busy = retry.isPending || cancel.isPending || discard.isPending;
  return (
    <Drawer
      open={id !== null}
      onClose={onClose}
      title={t('jobs.details')}
      rootClassName="job-drawer"
      size="large"
      styles={{ wrapper: { maxWidth: '100vw' } }}
      destroyOnHidden
      extra={
        detail && (
          <Space wrap>
            {canRetry(detail.state) && (
              <Button type="primary" loading={retry.isPending} disabled={busy}
                onClick={() => retry.mutate(detail.id, { onSuccess: () => message.success(t('jobs.retried')), onError: failed })}>
                {t('jobs.retry')}
              </Button>
            )}
            {canCancel(detail.state) && (
              <Button loading={cancel.isPending} disabled={busy}
                onClick={() => cancel.mutate(detail.id, {
                  onSuccess: (d) => message.success(t(d?.state === 'running' ? 'jobs.cancelRequested' : 'jobs.cancelled')),
                  onError: failed,
                })}>
                {t('jobs.cancel')}
              </Button>
            )}
            {canDiscard(detail.state) && (
              <Popconfirm title={t('jobs.discardConfirm')} okText={t('jobs.discard')} cancelText={t('common.cancel')}
                onConfirm={() => discard.mutate(detail.id, { onSuccess: () => { message.success(t('jobs.discarded')); onClose(); }, onError: failed })}>
                <Button danger loading={discard.isPending} disabled={busy}>{t('jobs.discard')}</Button>
              </Popconfirm>
            )}
          </Space>
        )
      }
    >
      {job.error && <Alert type="error" showIcon title={errorMessage(i18n, job.error)} />}
      {job.isLoading && <Typography.Text type="secondary">{t('app.loading')}</Typography.Text>}
      {detail && (
        <Space orientation="vertical" size="large" style={{ width: '100%' }}>
          <Descriptions column={{ xs: 1, sm: 1, md: 2 }} size="small" bordered>
            <Descriptions.Item label={t('jobs.state')}>
              <Tag color={STATE_COLOR[detail.state]}>{t(stateLabel(detail.state))}</Tag>
              {detail.cancel_requested && <Tag>{t('jobs.cancelRequested')}</Tag>}
            </Descriptions.Item>
            <Descriptions.Item label={t('jobs.attempts')}>{`${detail.attempts} / ${detail.max_attempts}`}</Descriptions.Item>
            <Descriptions.Item label={t('jobs.queue')}><Typography.Text code>{detail.queue}</Typography.Text></Descriptions.Item>
            <Descriptions.Item label={t('jobs.kind')}>{detail.kind}</Descriptions.Item>
            <Descriptions.Item label={t('jobs.created')}>{when(detail.created_at)}</Descriptions.Item>
            <Descriptions.Item label={t('jobs.runAt')}>{when(detail.run_at)}</Descriptions.Item>
            <Descriptions.Item label={t('jobs.finished')}>{when(detail.finished_at)}</Descriptions.Item>
            <Descriptions.Item label={t('jobs.node')}>{detail.node ?? t('common.none')}</Descriptions.Item>
            {detail.idempotency_key && (
              <Descriptions.Item label={t('jobs.idempotencyKey')} span={2}>
                <Typography.Text code copyable>{detail.idempotency_key}</Typography.Text>
              </Descriptions.Item>
            )}
            <Descriptions.Item label="ID" span={2}><Typography.Text copyable>{detail.id}</Typography.Text></Descriptions.Item>
          </Descriptions>
          {detail.last_error && (
            <Alert type={detail.state === 'dead' ? 'error' : 'warning'} showIcon title={t('jobs.lastError')}
              description={<span data-testid="job-last-error" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>{detail.last_error}</span>} />
          )}
          <div>
            <Typography.Title level={5}>{t('jobs.payload')}</Typography.Title>
            <pre data-testid="job-payload" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word', margin: 0, padding: 8, borderRadius: 6, background: 'rgba(127,127,127,0.08)', maxHeight: 240, overflow: 'auto' }}>
              {payloadText(detail.payload)}
            </pre>
          </div>
          <div>
            <Typography.Title level={5}>{t('jobs.history')}</Typography.Title>
            <Table<Attempt>
              rowKey="attempt"
              size="small"
              pagination={false}
              dataSource={detail.history}
              scroll={{ x: 'max-content' }}
              columns={[
                { key: 'attempt', title: '#', dataIndex: 'attempt' },
                { key: 'outcome', title: t('jobs.outcome'), render: (_, a) => <Tag color={OUTCOME_COLOR[a.outcome]}>{t(`jobs.outcome.${a.outcome}` as MessageKey)}</Tag> },
                { key: 'node', title: t('jobs.node'), render: (_, a) => a.node ?? t('common.none') },
                { key: 'started', title: t('jobs.started'), render: (_, a) => when(a.started_at) },
                { key: 'finished', title: t('jobs.finished'), render: (_, a) => when(a.finished_at) },
                {
                  key: 'error',
                  title: t('jobs.error'),
                  render: (_, a) => <span style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>{a.error ?? ''}</span>,
                },
              ]}
            />
          </div>
        </Space>
      )}
    </Drawer>
  );
}
