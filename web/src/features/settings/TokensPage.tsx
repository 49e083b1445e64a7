// API tokens for integrations: create one (its secret is shown once), see when each was last
// used, revoke it.
import { Alert, App, Button, Input, Modal, Space, Table, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, apiPath } from '../../api/client';
import type { ApiToken, CreatedToken } from '../../api/types';
import { useI18n } from '../../i18n/I18nProvider';
import { errorMessage } from '../../app/PageState';

export default function TokensPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const { message } = App.useApp();
  const client = useQueryClient();
  const tokens = useQuery({ queryKey: ['tokens'], queryFn: () => api.get<ApiToken[]>('/api/v1/tokens') });
  const [name, setName] = useState('');
  const [open, setOpen] = useState(false);
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const create = async () => {
    try {
      setCreated(await api.post<CreatedToken>('/api/v1/tokens', { name }));
      await client.invalidateQueries({ queryKey: ['tokens'] });
    } catch (error) {
      message.error(errorMessage(i18n, error));
    }
  };
  const revoke = async (token: ApiToken) => {
    try {
      await api.delete(apiPath`/api/v1/tokens/${token.id}`);
      await client.invalidateQueries({ queryKey: ['tokens'] });
    } catch (error) {
      message.error(errorMessage(i18n, error));
    }
  };
  return (
    <div>
      <div style={{ display: 'flex', marginBottom: 12 }}>
        <Typography.Title level={4} style={{ margin: 0, flex: 1 }}>{t('settings.tokens')}</Typography.Title>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => { setName(''); setCreated(null); setOpen(true); }}>{t('settings.newToken')}</Button>
      </div>
      <Table<ApiToken>
        rowKey="id"
        loading={tokens.isLoading}
        dataSource={tokens.data ?? []}
        pagination={false}
        scroll={{ x: 'max-content' }}
        columns={[
          { key: 'name', title: t('common.name'), dataIndex: 'name' },
          { key: 'prefix', title: t('settings.prefix'), render: (_, k) => <Typography.Text code>{k.prefix}…</Typography.Text> },
          { key: 'created', title: t('common.created'), render: (_, k) => i18n.dateTime(k.created_at) },
          { key: 'used', title: t('settings.lastUsed'), render: (_, k) => (k.last_used_at ? i18n.relative(k.last_used_at) : t('common.none')) },
          {
            key: 'actions',
            title: t('common.actions'),
            render: (_, k) => (k.revoked_at ? <Tag>{t('settings.revoked')}</Tag> : <Button size="small" danger onClick={() => revoke(k)}>{t('settings.revoke')}</Button>),
          },
        ]}
      />
      <Modal open={open} onCancel={() => setOpen(false)} title={t('settings.newToken')} destroyOnHidden
        footer={created ? <Button onClick={() => setOpen(false)}>{t('common.close')}</Button> : undefined}
        onOk={create} okText={t('common.create')} cancelText={t('common.cancel')} okButtonProps={{ disabled: !name.trim() }}>
        {created ? (
          <Space orientation="vertical" style={{ width: '100%' }}>
            <Alert type="warning" showIcon title={t('settings.tokenOnce')} />
            <Typography.Paragraph copyable code style={{ wordBreak: 'break-all' }}>{created.token}</Typography.Paragraph>
          </Space>
        ) : (
          <Input value={name} onChange={(e) => setName(e.target.value)} placeholder={t('common.name')} aria-label={t('common.name')} autoFocus />
        )}
      </Modal>
    </div>
  );
}
