// An endpoint's delivery log: its latest messages (refreshed every few seconds) with their
// state and every attempt — time, status, latency, the first KB of the answer or the error —
// the body that was sent, and "send again" (the same webhook-id), for one message or for every
// message of a range of days.
import { App, Button, DatePicker, Drawer, Empty, Space, Table, Tag, Typography } from 'antd';
import type { Dayjs } from 'dayjs';
import { useState } from 'react';
import { RedoOutlined } from '@ant-design/icons';
import { useQueryClient } from '@tanstack/react-query';
import { api, apiPath } from '../../../api/client';
import { useI18n, type MessageKey } from '../../../i18n/I18nProvider';
import { PageError, errorMessage } from '../../../app/PageState';
import { useDeliveries, webhookKeys, type Delivery, type DeliveryAttempt, type Endpoint, type Resent } from './api';

const STATE_COLOR: Record<string, string> = { delivered: 'green', pending: 'gold', waiting: 'blue', parked: 'orange', failed: 'red', skipped: 'default' };

export function DeliveriesDrawer({ endpoint, onClose }: { endpoint: Pick<Endpoint, 'id' | 'url'>; onClose: () => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const { message } = App.useApp();
  const client = useQueryClient();
  const deliveries = useDeliveries(endpoint.id);
  const [range, setRange] = useState<[Dayjs, Dayjs] | null>(null);

  const resend = async (delivery: Delivery) => {
    try {
      await api.post(apiPath`/api/v1/webhooks/deliveries/${delivery.id}/resend`, {});
      message.success(t('webhooks.resent'));
      await client.invalidateQueries({ queryKey: webhookKeys.deliveries(endpoint.id) });
    } catch (error) {
      message.error(errorMessage(i18n, error));
    }
  };

  const resendRange = async () => {
    if (!range) return;
    try {
      const got = await api.post<Resent>(apiPath`/api/v1/webhooks/${endpoint.id}/resend`, {
        since: range[0].startOf('day').toISOString(),
        until: range[1].add(1, 'day').startOf('day').toISOString(),
      });
      message.success(t('webhooks.resentRange', { n: i18n.number(got.queued) }));
      await client.invalidateQueries({ queryKey: webhookKeys.deliveries(endpoint.id) });
    } catch (error) {
      message.error(errorMessage(i18n, error));
    }
  };

  return (
    <Drawer open onClose={onClose} size="large" title={t('webhooks.deliveriesOf', { url: endpoint.url })} data-testid="deliveries-drawer">
      <Space wrap style={{ marginBottom: 12 }}>
        <DatePicker.RangePicker value={range} onChange={(v) => setRange(v && v[0] && v[1] ? [v[0], v[1]] : null)} aria-label={t('webhooks.resendRange')} />
        <Button icon={<RedoOutlined />} disabled={!range} onClick={resendRange} data-testid="resend-range">
          {t('webhooks.resendRange')}
        </Button>
      </Space>
      {deliveries.error ? (
        <PageError error={deliveries.error} onRetry={() => deliveries.refetch()} />
      ) : (
        <Table<Delivery>
          rowKey="id"
          size="small"
          loading={deliveries.isLoading}
          dataSource={deliveries.data ?? []}
          pagination={{ pageSize: 20, hideOnSinglePage: true }}
          scroll={{ x: 'max-content' }}
          data-testid="deliveries-table"
          locale={{ emptyText: <Empty description={t('webhooks.noDeliveries')} /> }}
          expandable={{ expandedRowRender: (d) => <DeliveryDetail delivery={d} /> }}
          columns={[
            { key: 'at', title: t('webhooks.createdAt'), render: (_, d) => i18n.dateTime(d.created_at) },
            { key: 'topic', title: t('webhooks.topic'), render: (_, d) => <Tag>{t(`webhooks.topic.${d.topic}` as MessageKey)}</Tag> },
            {
              key: 'state',
              title: t('webhooks.state'),
              render: (_, d) => (
                <Tag color={STATE_COLOR[d.state] ?? 'default'} data-testid="delivery-state">
                  {t(`webhooks.deliveryState.${d.state}` as MessageKey)}
                </Tag>
              ),
            },
            { key: 'attempts', title: t('webhooks.attempts'), render: (_, d) => d.attempts.length },
            { key: 'status', title: t('webhooks.lastStatus'), render: (_, d) => d.attempts[0]?.status ?? (d.attempts[0]?.error ? t('webhooks.noAnswer') : '—') },
            {
              key: 'actions',
              title: t('common.actions'),
              render: (_, d) => (
                <Button size="small" icon={<RedoOutlined />} onClick={() => resend(d)} data-testid="resend-delivery">
                  {t('webhooks.resend')}
                </Button>
              ),
            },
          ]}
        />
      )}
    </Drawer>
  );
}

function DeliveryDetail({ delivery }: { delivery: Delivery }) {
  const i18n = useI18n();
  const { t } = i18n;
  return (
    <Space orientation="vertical" style={{ width: '100%' }} data-testid="delivery-detail">
      <Typography.Text type="secondary">
        webhook-id: <Typography.Text code>{delivery.id}</Typography.Text>
      </Typography.Text>
      {delivery.attempts.map((a: DeliveryAttempt, i) => (
        <div key={i} style={{ borderInlineStart: '3px solid #d9d9d9', paddingInlineStart: 8 }}>
          <Space wrap size={8}>
            <Typography.Text>{i18n.dateTime(a.at)}</Typography.Text>
            {a.status !== null && a.status !== undefined ? (
              <Tag color={a.status >= 200 && a.status < 300 ? 'green' : 'red'}>{a.status}</Tag>
            ) : (
              <Tag color="red">{t('webhooks.noAnswer')}</Tag>
            )}
            <Typography.Text type="secondary">{t('webhooks.latency', { ms: i18n.number(a.latency_ms) })}</Typography.Text>
          </Space>
          {(a.error || a.response) && (
            <pre style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all', margin: '4px 0 0', fontSize: 12 }}>{a.error ?? a.response}</pre>
          )}
        </div>
      ))}
      <Typography.Text type="secondary">{t('webhooks.body')}</Typography.Text>
      <pre style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all', margin: 0, fontSize: 12, maxHeight: 240, overflow: 'auto' }}>
        {JSON.stringify(delivery.payload, null, 2)}
      </pre>
    </Space>
  );
}
