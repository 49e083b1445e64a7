// A hook's log: its latest 50 requests, newest first and refreshed every few seconds — accepted
// with links to the records written, or rejected with the reason (its code in the user's
// language) — each unfolding to its webhook-id, the error and the payload as received, as text.
import { Drawer, Empty, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { Link } from 'react-router';
import { pathSegment } from '../../../api/client';
import { useI18n } from '../../../i18n/I18nProvider';
import { errorCodeText } from '../../../i18n/codes';
import { PageError } from '../../../app/PageState';
import { useHookDeliveries, type Hook, type InboundDelivery } from './api';
import { payloadText } from './model';

const PRE = { whiteSpace: 'pre-wrap', wordBreak: 'break-all', margin: 0, fontSize: 12, maxHeight: 240, overflow: 'auto' } as const;

export function HookLogDrawer({ hook, onClose }: { hook: Pick<Hook, 'id' | 'name' | 'object'>; onClose: () => void }) {
  const i18n = useI18n();
  const { t, locale } = i18n;
  const log = useHookDeliveries(hook.id);
  return (
    <Drawer open onClose={onClose} size="large" title={t('inbound.logOf', { name: hook.name })} data-testid="hook-log">
      {log.error ? (
        <PageError error={log.error} onRetry={() => log.refetch()} />
      ) : (
        <Table<InboundDelivery>
          rowKey="id"
          size="small"
          loading={log.isLoading}
          dataSource={log.data ?? []}
          pagination={{ pageSize: 20, hideOnSinglePage: true }}
          data-testid="hook-log-table"
          locale={{ emptyText: <Empty description={t('inbound.noRequests')} /> }}
          expandable={{ expandedRowRender: (d) => <RequestDetail delivery={d} /> }}
          columns={[
            { key: 'at', title: t('inbound.receivedAt'), render: (_, d) => <span style={{ whiteSpace: 'nowrap' }}>{i18n.dateTime(d.received_at)}</span> },
            {
              key: 'state',
              title: t('inbound.state'),
              render: (_, d) => (
                <Tag color={d.state === 'accepted' ? 'green' : 'red'} data-testid="hook-request-state">
                  {d.state === 'accepted' || d.state === 'rejected' ? t(`inbound.state.${d.state}`) : d.state}
                </Tag>
              ),
            },
            {
              key: 'outcome',
              title: t('inbound.outcome'),
              render: (_, d) =>
                d.code ? (
                  <Tooltip title={d.code}>
                    <Typography.Text type="danger" data-testid="hook-request-code">
                      {errorCodeText(locale, d.code) ?? d.code}
                    </Typography.Text>
                  </Tooltip>
                ) : d.records.length ? (
                  <Space size={[8, 0]} wrap data-testid="hook-request-records">
                    {d.records.map((r) => (
                      <Link key={r.id} to={`/o/${pathSegment(hook.object)}/${pathSegment(r.id)}`} title={r.id}>
                        {t(r.action === 'updated' ? 'inbound.record.updated' : 'inbound.record.created')}
                      </Link>
                    ))}
                  </Space>
                ) : (
                  t('common.none')
                ),
            },
          ]}
        />
      )}
    </Drawer>
  );
}

function RequestDetail({ delivery }: { delivery: InboundDelivery }) {
  const { t } = useI18n();
  const payload = payloadText(delivery.payload);
  return (
    <Space orientation="vertical" style={{ width: '100%' }} data-testid="hook-request-detail">
      {delivery.message_id && (
        <Typography.Text type="secondary">
          webhook-id: <Typography.Text code>{delivery.message_id}</Typography.Text>
        </Typography.Text>
      )}
      {delivery.error && (
        <div>
          <Typography.Text type="secondary">{t('inbound.error')}</Typography.Text>
          <pre style={PRE} data-testid="hook-request-error">
            {delivery.error}
          </pre>
        </div>
      )}
      <div>
        <Typography.Text type="secondary">{t('inbound.payload')}</Typography.Text>
        {payload ? (
          <pre style={PRE} data-testid="hook-request-payload">
            {payload}
          </pre>
        ) : (
          <Typography.Paragraph type="secondary" italic style={{ margin: 0 }} data-testid="hook-request-payload">
            {t(delivery.state === 'rejected' ? 'inbound.payloadNotKept' : 'inbound.payloadEmpty')}
          </Typography.Paragraph>
        )}
      </div>
    </Space>
  );
}
