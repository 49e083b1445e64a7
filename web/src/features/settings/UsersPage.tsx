// Users of the workspace: who they are, their role, whether they are active; admins add users
// and change roles or deactivate them.
import { App, Button, Form, Input, Modal, Select, Switch, Table, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, apiPath } from '../../api/client';
import { keys, useUsers } from '../../api/queries';
import type { Role, User } from '../../api/types';
import { useI18n } from '../../i18n/I18nProvider';
import { errorMessage } from '../../app/PageState';
import { showOnField } from './formErrors';
import { roleName } from './roleName';

export function useRoles() {
  return useQuery({ queryKey: ['roles'], queryFn: () => api.get<Role[]>('/api/v1/roles') });
}

export default function UsersPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const { message } = App.useApp();
  const users = useUsers();
  const roles = useRoles();
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm();
  const update = async (user: User, change: Partial<Pick<User, 'role_id' | 'active'>>) => {
    try {
      await api.patch(apiPath`/api/v1/users/${user.id}`, change);
      await client.invalidateQueries({ queryKey: keys.users });
    } catch (error) {
      message.error(errorMessage(i18n, error));
    }
  };
  const create = async () => {
    const values = await form.validateFields();
    try {
      await api.post('/api/v1/users', values);
      await client.invalidateQueries({ queryKey: keys.users });
      setOpen(false);
      form.resetFields();
    } catch (error) {
      if (!showOnField(form, error, i18n)) message.error(errorMessage(i18n, error));
    }
  };
  const roleOptions = (roles.data ?? []).map((r) => ({ value: r.id, label: roleName(i18n, r) }));
  return (
    <div>
      <div style={{ display: 'flex', marginBottom: 12 }}>
        <Typography.Title level={4} style={{ margin: 0, flex: 1 }}>{t('settings.users')}</Typography.Title>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setOpen(true)}>{t('settings.newUser')}</Button>
      </div>
      <Table<User>
        rowKey="id"
        loading={users.isLoading}
        dataSource={users.data ?? []}
        pagination={false}
        scroll={{ x: 'max-content' }}
        columns={[
          { key: 'name', title: t('common.name'), dataIndex: 'name' },
          { key: 'email', title: t('auth.email'), dataIndex: 'email' },
          {
            key: 'role',
            title: t('settings.role'),
            render: (_, u) => <Select size="small" style={{ minWidth: 160 }} value={u.role_id} options={roleOptions} onChange={(role_id) => update(u, { role_id })} aria-label={t('settings.role')} />,
          },
          {
            key: 'active',
            title: t('settings.active'),
            render: (_, u) => <Switch size="small" checked={u.active} onChange={(active) => update(u, { active })} aria-label={t('settings.active')} />,
          },
          { key: 'created', title: t('common.created'), render: (_, u) => i18n.date(u.created_at.slice(0, 10)) },
        ]}
      />
      <Modal open={open} onCancel={() => setOpen(false)} onOk={create} title={t('settings.newUser')} okText={t('common.create')} cancelText={t('common.cancel')} destroyOnHidden>
        <Form form={form} layout="vertical">
          <Form.Item name="name" label={t('common.name')} rules={[{ required: true, message: t('common.fieldRequired') }]}><Input /></Form.Item>
          <Form.Item name="email" label={t('auth.email')} rules={[{ required: true, message: t('common.fieldRequired') }]}><Input type="email" /></Form.Item>
          <Form.Item name="password" label={t('auth.password')} rules={[{ required: true, message: t('common.fieldRequired') }]}><Input.Password autoComplete="new-password" /></Form.Item>
          <Form.Item name="role_id" label={t('settings.role')} rules={[{ required: true, message: t('common.fieldRequired') }]}><Select options={roleOptions} /></Form.Item>
        </Form>
      </Modal>
    </div>
  );
}
