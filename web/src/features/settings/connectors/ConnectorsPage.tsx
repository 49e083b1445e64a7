// Connectors (administrators): the email, SMS, group chat and HTTP connections Rapport sends
// through — each with its type, switch, last send and last error — and the ways to change one
// (ConnectorModal), send a test (TestModal), read its log (MessagesDrawer) or delete it.
import { App, Button, Empty, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { DeleteOutlined, EditOutlined, HistoryOutlined, PlusOutlined, SendOutlined } from '@ant-design/icons';
import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api, apiPath } from '../../../api/client';
import { useI18n } from '../../../i18n/I18nProvider';
import { PageError, errorMessage } from '../../../app/PageState';
import { connectorKeys, useConnectors, useKinds, type Connector } from './api';
import { kindLabel } from './model';
import { ConnectorModal } from './ConnectorModal';
import { TestModal } from './TestModal';
import { MessagesDrawer } from './MessagesDrawer';

export default function ConnectorsPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const { message, modal } = App.useApp();
  const client = useQueryClient();
  const connectors = useConnectors();
  const kinds = useKinds();
  const [editing, setEditing] = useState<Connector | 'new' | null>(null);
  const [testing, setTesting] = useState<Connector | null>(null);
  const [log, setLog] = useState<Connector | null>(null);
  const kindOf = (connector: Connector) => kinds.data?.find((k) => k.kind === connector.kind);

  const remove = (connector: Connector) =>
    modal.confirm({
      title: t('connectors.deleteConfirm', { name: connector.name }),
      okButtonProps: { danger: true },
      okText: t('common.delete'),
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          await api.delete(apiPath`/api/v1/connectors/${connector.id}`);
          await client.invalidateQueries({ queryKey: connectorKeys.all, exact: true });
          message.success(t('common.deleted'));
        } catch (error) {
          message.error(errorMessage(i18n, error));
        }
      },
    });

  const failed = connectors.error ?? kinds.error;
  if (failed) {
    return (
      <PageError
        error={failed}
        onRetry={() => {
          connectors.refetch();
          kinds.refetch();
        }}
      />
    );
  }
  const testingKind = testing ? kindOf(testing) : undefined;
  return (
    <div>
      <div style={{ display: 'flex', marginBottom: 4, gap: 8, flexWrap: 'wrap' }}>
        <Typography.Title level={4} style={{ margin: 0, flex: 1 }}>
          {t('settings.connectors')}
        </Typography.Title>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} disabled={!kinds.data} data-testid="new-connector">
          {t('connectors.new')}
        </Button>
      </div>
      <Typography.Paragraph type="secondary">{t('connectors.intro')}</Typography.Paragraph>
      <Table<Connector>
        rowKey="id"
        loading={connectors.isLoading || kinds.isLoading}
        dataSource={connectors.data ?? []}
        pagination={false}
        scroll={{ x: 'max-content' }}
        data-testid="connectors-table"
        locale={{ emptyText: <Empty description={t('connectors.empty')} /> }}
        columns={[
          {
            key: 'name',
            title: t('connectors.name'),
            render: (_, c) => (
              <Space orientation="vertical" size={0}>
                <Typography.Text strong data-testid="connector-name">
                  {c.name}
                </Typography.Text>
                {c.description && <Typography.Text type="secondary">{c.description}</Typography.Text>}
              </Space>
            ),
          },
          { key: 'kind', title: t('connectors.kind'), render: (_, c) => <Tag>{kindLabel(t, c.kind)}</Tag> },
          {
            key: 'enabled',
            title: t('connectors.state'),
            render: (_, c) => (c.enabled ? <Tag color="green">{t('connectors.enabled')}</Tag> : <Tag>{t('connectors.disabled')}</Tag>),
          },
          {
            key: 'lastSent',
            title: t('connectors.lastSent'),
            render: (_, c) => (c.last_sent_at ? i18n.dateTime(c.last_sent_at) : <Typography.Text type="secondary">{t('connectors.never')}</Typography.Text>),
          },
          {
            key: 'lastError',
            title: t('connectors.lastError'),
            render: (_, c) =>
              c.last_error ? (
                <Typography.Text type="danger" style={{ maxWidth: 240 }} ellipsis={{ tooltip: c.last_error }} data-testid="connector-last-error">
                  {c.last_error}
                </Typography.Text>
              ) : (
                t('common.none')
              ),
          },
          {
            key: 'actions',
            title: t('common.actions'),
            // At tablet width the other columns scroll under the actions.
            fixed: 'right',
            render: (_, c) => (
              <Space>
                <Button size="small" icon={<SendOutlined />} onClick={() => setTesting(c)} disabled={!kindOf(c)} data-testid="connector-test">
                  {t('connectors.test')}
                </Button>
                <Button size="small" icon={<HistoryOutlined />} onClick={() => setLog(c)} data-testid="connector-log-open">
                  {t('connectors.log')}
                </Button>
                <Tooltip title={t('common.edit')}>
                  <Button size="small" icon={<EditOutlined />} onClick={() => setEditing(c)} disabled={!kinds.data} aria-label={t('common.edit')} data-testid="connector-edit" />
                </Tooltip>
                <Tooltip title={t('common.delete')}>
                  <Button size="small" danger icon={<DeleteOutlined />} onClick={() => remove(c)} aria-label={t('common.delete')} data-testid="connector-delete" />
                </Tooltip>
              </Space>
            ),
          },
        ]}
      />
      {editing && kinds.data && <ConnectorModal connector={editing === 'new' ? null : editing} kinds={kinds.data} onClose={() => setEditing(null)} />}
      {testing && testingKind && <TestModal connector={testing} kind={testingKind} onClose={() => setTesting(null)} />}
      {log && <MessagesDrawer connector={log} onClose={() => setLog(null)} />}
    </div>
  );
}
