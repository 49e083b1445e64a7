// Inbound webhooks (administrators): the addresses outside systems post their changes to, each
// with its object, full URL (to copy), kind of proof, switch and last request; how to send to
// them; and the ways to change one (HookModal), read its log (HookLogDrawer), rotate its secret
// (shown once, SecretModal) or delete it.
import { App, Button, Collapse, Empty, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { DeleteOutlined, EditOutlined, HistoryOutlined, PlusOutlined, SyncOutlined } from '@ant-design/icons';
import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api, apiPath } from '../../../api/client';
import { useObjects } from '../../../api/queries';
import { useI18n } from '../../../i18n/I18nProvider';
import { PageError, errorMessage } from '../../../app/PageState';
import { hookKeys, useHooks, type Hook, type HookSecret } from './api';
import { hookUrl } from './model';
import { HookModal } from './HookModal';
import { HookLogDrawer } from './HookLogDrawer';
import { HowToSend, SecretModal } from './SecretModal';

export default function InboundHooksPage() {
  const i18n = useI18n();
  const { t, label } = i18n;
  const { message, modal } = App.useApp();
  const client = useQueryClient();
  const hooks = useHooks();
  const objects = useObjects();
  const [editing, setEditing] = useState<Hook | 'new' | null>(null);
  const [log, setLog] = useState<Hook | null>(null);
  const [secret, setSecret] = useState<{ hook: Hook; secret: string; rotated: boolean } | null>(null);
  const objectName = (name: string) => label(objects.data?.find((o) => o.api_name === name)?.label) || name;

  const remove = (hook: Hook) =>
    modal.confirm({
      title: t('inbound.deleteConfirm', { name: hook.name }),
      content: t('inbound.deleteHint'),
      okButtonProps: { danger: true },
      okText: t('common.delete'),
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          await api.delete(apiPath`/api/v1/inbound-hooks/${hook.id}`);
          await client.invalidateQueries({ queryKey: hookKeys.all });
          message.success(t('common.deleted'));
        } catch (error) {
          message.error(errorMessage(i18n, error));
        }
      },
    });

  const rotate = (hook: Hook) =>
    modal.confirm({
      title: t('inbound.rotateConfirm', { name: hook.name }),
      content: t('inbound.rotateHint'),
      okText: t('inbound.rotate'),
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          const got = await api.post<HookSecret>(apiPath`/api/v1/inbound-hooks/${hook.id}/rotate-secret`, {});
          setSecret({ hook, secret: got.secret, rotated: true });
        } catch (error) {
          message.error(errorMessage(i18n, error));
        }
      },
    });

  const failed = hooks.error ?? objects.error;
  if (failed) {
    return (
      <PageError
        error={failed}
        onRetry={() => {
          hooks.refetch();
          objects.refetch();
        }}
      />
    );
  }
  return (
    <div>
      <div style={{ display: 'flex', marginBottom: 4, gap: 8, flexWrap: 'wrap' }}>
        <Typography.Title level={4} style={{ margin: 0, flex: 1 }}>
          {t('settings.inboundHooks')}
        </Typography.Title>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} disabled={!objects.data} data-testid="new-hook">
          {t('inbound.new')}
        </Button>
      </div>
      <Typography.Paragraph type="secondary">{t('inbound.intro')}</Typography.Paragraph>
      <Collapse
        size="small"
        style={{ marginBottom: 16 }}
        items={[{ key: 'howto', label: t('inbound.howto'), children: <HowToSend /> }]}
      />
      <Table<Hook>
        rowKey="id"
        loading={hooks.isLoading || objects.isLoading}
        dataSource={hooks.data ?? []}
        pagination={false}
        scroll={{ x: 'max-content' }}
        data-testid="hooks-table"
        locale={{ emptyText: <Empty description={t('inbound.empty')} /> }}
        columns={[
          {
            key: 'name',
            title: t('inbound.name'),
            render: (_, h) => (
              <Space orientation="vertical" size={0}>
                <Typography.Text strong data-testid="hook-name">
                  {h.name}
                </Typography.Text>
                <Typography.Text type="secondary">{objectName(h.object)}</Typography.Text>
              </Space>
            ),
          },
          {
            key: 'url',
            title: t('inbound.url'),
            render: (_, h) => (
              <Typography.Text code copyable style={{ maxWidth: 300, wordBreak: 'break-all' }} data-testid="hook-url">
                {hookUrl(window.location.origin, h)}
              </Typography.Text>
            ),
          },
          { key: 'auth', title: t('inbound.auth'), render: (_, h) => <Tag>{t(`inbound.auth.${h.auth}`)}</Tag> },
          {
            key: 'state',
            title: t('inbound.state'),
            render: (_, h) => (
              <Space orientation="vertical" size={0}>
                {h.enabled ? <Tag color="green">{t('inbound.enabled')}</Tag> : <Tag>{t('inbound.disabled')}</Tag>}
                <Typography.Text type="secondary" style={{ fontSize: 12, whiteSpace: 'nowrap' }}>
                  {h.last_received_at ? t('inbound.lastReceived', { when: i18n.dateTime(h.last_received_at) }) : t('inbound.never')}
                </Typography.Text>
              </Space>
            ),
          },
          {
            key: 'actions',
            title: t('common.actions'),
            // At tablet width the other columns scroll under the actions.
            fixed: 'right',
            render: (_, h) => (
              <Space>
                <Button size="small" icon={<HistoryOutlined />} onClick={() => setLog(h)} data-testid="hook-log-open">
                  {t('inbound.log')}
                </Button>
                <Tooltip title={t('inbound.rotate')}>
                  <Button size="small" icon={<SyncOutlined />} onClick={() => rotate(h)} aria-label={t('inbound.rotate')} data-testid="hook-rotate" />
                </Tooltip>
                <Tooltip title={t('common.edit')}>
                  <Button size="small" icon={<EditOutlined />} onClick={() => setEditing(h)} disabled={!objects.data} aria-label={t('common.edit')} data-testid="hook-edit" />
                </Tooltip>
                <Tooltip title={t('common.delete')}>
                  <Button size="small" danger icon={<DeleteOutlined />} onClick={() => remove(h)} aria-label={t('common.delete')} data-testid="hook-delete" />
                </Tooltip>
              </Space>
            ),
          },
        ]}
      />
      {editing && objects.data && (
        <HookModal
          hook={editing === 'new' ? null : editing}
          objects={objects.data}
          onClose={() => setEditing(null)}
          onCreated={({ secret: created, ...hook }) => setSecret({ hook, secret: created, rotated: false })}
        />
      )}
      {log && <HookLogDrawer hook={log} onClose={() => setLog(null)} />}
      {secret && <SecretModal hook={secret.hook} secret={secret.secret} rotated={secret.rotated} onClose={() => setSecret(null)} />}
    </div>
  );
}
