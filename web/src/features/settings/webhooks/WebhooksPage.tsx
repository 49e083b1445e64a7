// Outbound webhooks (administrators): the endpoints that receive the workspace's changes, each
// with its topics, objects and signing secret, its timeout and circuit breaker (state and
// settings), and its delivery log (DeliveriesDrawer).
import { App, Button, Checkbox, Collapse, Empty, Form, Input, InputNumber, Modal, Select, Space, Switch, Table, Tag, Tooltip, Typography } from 'antd';
import { DeleteOutlined, EditOutlined, HistoryOutlined, KeyOutlined, PlusOutlined, SyncOutlined } from '@ant-design/icons';
import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api, apiPath } from '../../../api/client';
import { useObjects } from '../../../api/queries';
import { useI18n, type MessageKey } from '../../../i18n/I18nProvider';
import { PageError, errorMessage } from '../../../app/PageState';
import { showOnField } from '../formErrors';
import { DeliveriesDrawer } from './DeliveriesDrawer';
import { TOPICS, useEndpoints, webhookKeys, type BreakerConfig, type CreatedEndpoint, type Endpoint, type EndpointInput, type EndpointSecret } from './api';

export default function WebhooksPage() {
  const i18n = useI18n();
  const { t, label } = i18n;
  const { message, modal } = App.useApp();
  const client = useQueryClient();
  const endpoints = useEndpoints();
  const objects = useObjects();
  const [editing, setEditing] = useState<Endpoint | 'new' | null>(null);
  const [log, setLog] = useState<Endpoint | null>(null);
  const [secret, setSecret] = useState<{ endpoint: string; secret: string; rotated: boolean } | null>(null);
  const objectName = (name: string) => label(objects.data?.find((o) => o.api_name === name)?.plural_label) || name;

  const remove = (endpoint: Endpoint) =>
    modal.confirm({
      title: t('webhooks.deleteConfirm'),
      content: endpoint.url,
      okButtonProps: { danger: true },
      okText: t('common.delete'),
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          await api.delete(apiPath`/api/v1/webhooks/${endpoint.id}`);
          await client.invalidateQueries({ queryKey: webhookKeys.all });
          message.success(t('common.deleted'));
        } catch (error) {
          message.error(errorMessage(i18n, error));
        }
      },
    });

  const showSecret = async (endpoint: Endpoint) => {
    try {
      const got = await api.get<EndpointSecret>(apiPath`/api/v1/webhooks/${endpoint.id}/secret`);
      setSecret({ endpoint: endpoint.url, secret: got.secret, rotated: false });
    } catch (error) {
      message.error(errorMessage(i18n, error));
    }
  };

  const rotate = (endpoint: Endpoint) =>
    modal.confirm({
      title: t('webhooks.rotateConfirm'),
      content: t('webhooks.rotateHint'),
      okText: t('webhooks.rotate'),
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          const got = await api.post<EndpointSecret>(apiPath`/api/v1/webhooks/${endpoint.id}/rotate-secret`, {});
          setSecret({ endpoint: endpoint.url, secret: got.secret, rotated: true });
        } catch (error) {
          message.error(errorMessage(i18n, error));
        }
      },
    });

  if (endpoints.error) return <PageError error={endpoints.error} onRetry={() => endpoints.refetch()} />;
  return (
    <div>
      <div style={{ display: 'flex', marginBottom: 4, gap: 8, flexWrap: 'wrap' }}>
        <Typography.Title level={4} style={{ margin: 0, flex: 1 }}>{t('settings.webhooks')}</Typography.Title>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} data-testid="new-webhook">
          {t('webhooks.new')}
        </Button>
      </div>
      <Typography.Paragraph type="secondary">{t('webhooks.intro')}</Typography.Paragraph>
      <Table<Endpoint>
        rowKey="id"
        loading={endpoints.isLoading}
        dataSource={endpoints.data ?? []}
        pagination={false}
        scroll={{ x: 'max-content' }}
        data-testid="webhooks-table"
        locale={{ emptyText: <Empty description={t('webhooks.empty')} /> }}
        columns={[
          {
            key: 'url',
            title: t('webhooks.url'),
            render: (_, e) => (
              <Space orientation="vertical" size={0}>
                <Typography.Text code>{e.url}</Typography.Text>
                {e.description && <Typography.Text type="secondary">{e.description}</Typography.Text>}
              </Space>
            ),
          },
          { key: 'topics', title: t('webhooks.topics'), render: (_, e) => e.topics.map((topic) => <Tag key={topic}>{t(`webhooks.topic.${topic}` as MessageKey)}</Tag>) },
          {
            key: 'objects',
            title: t('webhooks.objects'),
            render: (_, e) => (e.objects.length ? e.objects.map((o) => <Tag key={o}>{objectName(o)}</Tag>) : <Typography.Text type="secondary">{t('webhooks.allObjects')}</Typography.Text>),
          },
          {
            key: 'enabled',
            title: t('webhooks.state'),
            render: (_, e) => (
              <Space orientation="vertical" size={0} data-testid="webhook-state">
                {e.ordered && <Tag color="blue">{t('webhooks.ordered')}</Tag>}
                {e.enabled ? (
                  <Tag color="green">{t('webhooks.enabled')}</Tag>
                ) : e.disabled_reason === 'failing' ? (
                  <Tag color="red">{t('webhooks.autoDisabled')}</Tag>
                ) : (
                  <Tag>{t('webhooks.disabled')}</Tag>
                )}
                {e.breaker_state !== 'closed' && (
                  <Tooltip title={e.next_probe_at ? t('webhooks.breaker.nextProbe', { when: i18n.dateTime(e.next_probe_at) }) : undefined}>
                    <Tag color={e.breaker_state === 'open' ? 'red' : 'orange'} data-testid="webhook-breaker">
                      {t(`webhooks.breaker.${e.breaker_state}` as MessageKey)}
                    </Tag>
                  </Tooltip>
                )}
                {e.failing_since && (
                  <Typography.Text type="danger" style={{ fontSize: 12 }}>
                    {t('webhooks.failingSince', { when: i18n.dateTime(e.failing_since) })}
                  </Typography.Text>
                )}
                {e.failing_since && e.last_error && (
                  <Typography.Text type="secondary" style={{ fontSize: 12 }} ellipsis={{ tooltip: e.last_error }}>
                    {t('webhooks.lastError', { error: e.last_error })}
                  </Typography.Text>
                )}
              </Space>
            ),
          },
          {
            key: 'actions',
            title: t('common.actions'),
            render: (_, e) => (
              <Space>
                <Button size="small" icon={<HistoryOutlined />} onClick={() => setLog(e)} data-testid="webhook-deliveries">
                  {t('webhooks.deliveries')}
                </Button>
                <Tooltip title={t('webhooks.secret')}>
                  <Button size="small" icon={<KeyOutlined />} onClick={() => showSecret(e)} aria-label={t('webhooks.secret')} />
                </Tooltip>
                <Tooltip title={t('webhooks.rotate')}>
                  <Button size="small" icon={<SyncOutlined />} onClick={() => rotate(e)} aria-label={t('webhooks.rotate')} />
                </Tooltip>
                <Button size="small" icon={<EditOutlined />} onClick={() => setEditing(e)} aria-label={t('common.edit')} />
                <Button size="small" danger icon={<DeleteOutlined />} onClick={() => remove(e)} aria-label={t('common.delete')} />
              </Space>
            ),
          },
        ]}
      />
      {editing && (
        <EndpointModal
          endpoint={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onCreated={(created) => setSecret({ endpoint: created.url, secret: created.secret, rotated: false })}
        />
      )}
      {log && <DeliveriesDrawer endpoint={log} onClose={() => setLog(null)} />}
      <Modal
        open={Boolean(secret)}
        title={t('webhooks.secret')}
        onCancel={() => setSecret(null)}
        footer={<Button onClick={() => setSecret(null)}>{t('common.close')}</Button>}
      >
        {secret && (
          <div data-testid="webhook-secret">
            <Typography.Paragraph>{secret.endpoint}</Typography.Paragraph>
            <Typography.Paragraph code copyable>
              {secret.secret}
            </Typography.Paragraph>
            <Typography.Paragraph type="secondary">{secret.rotated ? t('webhooks.rotatedHint') : t('webhooks.secretHint')}</Typography.Paragraph>
          </div>
        )}
      </Modal>
    </div>
  );
}

interface EndpointForm {
  url: string;
  description: string;
  topics: string[];
  objects: string[];
  enabled: boolean;
  ordered: boolean;
  timeout_seconds: number;
  breaker: BreakerConfig;
}

const DEFAULT_BREAKER: BreakerConfig = { timeouts: 3, failure_percent: 50, window: 20, cooldown_seconds: 30, drain_per_second: 100 };

/** The breaker's settings as number inputs, with their ranges. */
const BREAKER_FIELDS: { name: keyof BreakerConfig; label: MessageKey; min: number; max: number }[] = [
  { name: 'timeouts', label: 'webhooks.breakerTimeouts', min: 1, max: 20 },
  { name: 'failure_percent', label: 'webhooks.breakerFailurePercent', min: 1, max: 100 },
  { name: 'window', label: 'webhooks.breakerWindow', min: 5, max: 100 },
  { name: 'cooldown_seconds', label: 'webhooks.breakerCooldown', min: 1, max: 3600 },
  { name: 'drain_per_second', label: 'webhooks.breakerDrain', min: 1, max: 1000 },
];

function EndpointModal({ endpoint, onClose, onCreated }: { endpoint: Endpoint | null; onClose: () => void; onCreated: (e: CreatedEndpoint) => void }) {
  const i18n = useI18n();
  const { t, label } = i18n;
  const { message } = App.useApp();
  const client = useQueryClient();
  const objects = useObjects();
  const [form] = Form.useForm<EndpointForm>();
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    const values = await form.validateFields();
    const body: EndpointInput = {
      url: values.url.trim(),
      description: values.description?.trim() ?? '',
      topics: values.topics,
      objects: values.objects ?? [],
      enabled: values.enabled,
      ordered: values.ordered,
      timeout_seconds: values.timeout_seconds,
      breaker: values.breaker,
    };
    setBusy(true);
    try {
      if (endpoint) {
        await api.put<Endpoint>(apiPath`/api/v1/webhooks/${endpoint.id}`, body);
      } else {
        onCreated(await api.post<CreatedEndpoint>('/api/v1/webhooks', body));
      }
      await client.invalidateQueries({ queryKey: webhookKeys.all });
      message.success(t('common.saved'));
      onClose();
    } catch (error) {
      if (!showOnField(form, error, i18n)) message.error(errorMessage(i18n, error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open
      onCancel={onClose}
      onOk={submit}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      confirmLoading={busy}
      title={endpoint ? t('webhooks.edit') : t('webhooks.new')}
      width={600}
      destroyOnHidden
    >
      <Form
        form={form}
        layout="vertical"
        data-testid="webhook-form"
        initialValues={{
          url: endpoint?.url ?? '',
          description: endpoint?.description ?? '',
          topics: endpoint?.topics ?? ['record.created', 'record.updated'],
          objects: endpoint?.objects ?? [],
          enabled: endpoint?.enabled ?? true,
          ordered: endpoint?.ordered ?? false,
          timeout_seconds: endpoint?.timeout_seconds ?? 15,
          breaker: endpoint?.breaker ?? DEFAULT_BREAKER,
        }}
      >
        <Form.Item name="url" label={t('webhooks.url')} rules={[{ required: true, whitespace: true, message: t('webhooks.urlNeeded') }]}>
          <Input placeholder="https://erp.example.cn/hooks/rapport" autoFocus />
        </Form.Item>
        <Form.Item name="description" label={t('webhooks.description')}>
          <Input maxLength={500} />
        </Form.Item>
        <Form.Item name="topics" label={t('webhooks.topics')} rules={[{ required: true, type: 'array', min: 1, message: t('webhooks.topicsNeeded') }]}>
          <Checkbox.Group options={TOPICS.map((topic) => ({ value: topic, label: t(`webhooks.topic.${topic}` as MessageKey) }))} />
        </Form.Item>
        <Form.Item name="objects" label={t('webhooks.objects')} extra={t('webhooks.objectsHint')}>
          <Select
            mode="multiple"
            allowClear
            optionFilterProp="label"
            aria-label={t('webhooks.objects')}
            options={(objects.data ?? []).filter((o) => !o.archived_at).map((o) => ({ value: o.api_name, label: label(o.plural_label) }))}
          />
        </Form.Item>
        <Space size={32} wrap>
          <Form.Item name="enabled" label={t('webhooks.enabled')} valuePropName="checked">
            <Switch />
          </Form.Item>
          <Form.Item name="ordered" label={t('webhooks.ordered')} valuePropName="checked" tooltip={t('webhooks.orderedHint')}>
            <Switch />
          </Form.Item>
        </Space>
        <Collapse
          size="small"
          items={[
            {
              key: 'delivery',
              label: t('webhooks.delivery'),
              forceRender: true,
              children: (
                <>
                  <Typography.Paragraph type="secondary">{t('webhooks.breakerHint')}</Typography.Paragraph>
                  <Space size={16} wrap align="start">
                    <Form.Item name="timeout_seconds" label={t('webhooks.timeoutSeconds')} rules={[{ required: true }]}>
                      <InputNumber min={1} max={60} precision={0} />
                    </Form.Item>
                    {BREAKER_FIELDS.map((f) => (
                      <Form.Item key={f.name} name={['breaker', f.name]} label={t(f.label)} rules={[{ required: true }]}>
                        <InputNumber min={f.min} max={f.max} precision={0} />
                      </Form.Item>
                    ))}
                  </Space>
                </>
              ),
            },
          ]}
        />
      </Form>
    </Modal>
  );
}
