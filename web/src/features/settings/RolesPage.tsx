// Roles and their permissions: per object (or `*` for all others) which of create, read,
// update and delete the role may do; administrators may do everything.
import { App, Button, Checkbox, Input, Modal, Table, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api, apiPath } from '../../api/client';
import { useObjects } from '../../api/queries';
import type { Role } from '../../api/types';
import { useI18n } from '../../i18n/I18nProvider';
import { errorMessage } from '../../app/PageState';
import { useRoles } from './UsersPage';
import { suggestApiName } from './apiName';
import { roleName } from './roleName';

const LETTERS = ['c', 'r', 'u', 'd'] as const;

export default function RolesPage() {
  const i18n = useI18n();
  const { t, label } = i18n;
  const { message } = App.useApp();
  const roles = useRoles();
  const objects = useObjects();
  const client = useQueryClient();
  const [editing, setEditing] = useState<{ id: string; name: string; permissions: Record<string, string>; isNew: boolean } | null>(null);
  const save = async () => {
    if (!editing) return;
    try {
      await api.put(apiPath`/api/v1/roles/${editing.id || suggestApiName(editing.name)}`, { name: editing.name, permissions: editing.permissions });
      await client.invalidateQueries({ queryKey: ['roles'] });
      setEditing(null);
    } catch (error) {
      message.error(errorMessage(i18n, error));
    }
  };
  const rows = ['*', ...(objects.data ?? []).map((o) => o.api_name)];
  const toggle = (object: string, letter: string, on: boolean) =>
    setEditing((e) => {
      if (!e) return e;
      const current = e.permissions[object] ?? (object === '*' ? '' : e.permissions['*'] ?? '');
      const next = LETTERS.filter((l) => (l === letter ? on : current.includes(l))).join('');
      return { ...e, permissions: { ...e.permissions, [object]: next } };
    });
  return (
    <div>
      <div style={{ display: 'flex', marginBottom: 12 }}>
        <Typography.Title level={4} style={{ margin: 0, flex: 1 }}>{t('settings.roles')}</Typography.Title>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing({ id: '', name: '', permissions: { '*': 'r' }, isNew: true })}>
          {t('settings.newRole')}
        </Button>
      </div>
      <Table<Role>
        rowKey="id"
        loading={roles.isLoading}
        dataSource={roles.data ?? []}
        pagination={false}
        columns={[
          { key: 'name', title: t('common.name'), render: (_, r) => <span>{roleName(i18n, r)} {r.is_admin && <Tag color="red">{t('settings.admin')}</Tag>}</span> },
          { key: 'id', title: t('settings.roleId'), render: (_, r) => <Typography.Text code>{r.id}</Typography.Text> },
          {
            key: 'actions',
            title: t('common.actions'),
            render: (_, r) =>
              r.is_admin ? null : (
                <Button size="small" onClick={() => setEditing({ id: r.id, name: r.name, permissions: r.permissions as Record<string, string>, isNew: false })}>
                  {t('common.edit')}
                </Button>
              ),
          },
        ]}
      />
      <Modal open={Boolean(editing)} onCancel={() => setEditing(null)} onOk={save} title={editing?.isNew ? t('settings.newRole') : editing?.name} width={680} okText={t('common.save')} cancelText={t('common.cancel')} destroyOnHidden>
        {editing && (
          <>
            <Input
              value={editing.name}
              onChange={(e) => setEditing({ ...editing, name: e.target.value })}
              placeholder={t('common.name')}
              aria-label={t('common.name')}
              style={{ marginBottom: 12 }}
            />
            <Table
              size="small"
              rowKey={(r) => r}
              dataSource={rows}
              pagination={false}
              scroll={{ y: 360 }}
              columns={[
                { key: 'object', title: t('settings.permissions'), render: (_, o) => (o === '*' ? t('settings.allObjects') : label(objects.data?.find((x) => x.api_name === o)?.label)) },
                ...LETTERS.map((letter) => ({
                  key: letter,
                  title: t(`settings.perm.${letter}`),
                  render: (_: unknown, o: string) => {
                    const value = editing.permissions[o] ?? (o === '*' ? '' : editing.permissions['*'] ?? '');
                    return <Checkbox checked={value.includes(letter)} onChange={(e) => toggle(o, letter, e.target.checked)} aria-label={`${o} ${letter}`} />;
                  },
                })),
              ]}
            />
          </>
        )}
      </Modal>
    </div>
  );
}
