// Sales teams (administrators): each with a name, its members and its leads. Members get a
// "my team's" view on every list; leads also see their team's work on the home page.
import { App, Button, Empty, Form, Input, Modal, Select, Space, Table, Tag, Typography } from 'antd';
import { DeleteOutlined, EditOutlined, PlusOutlined } from '@ant-design/icons';
import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api, apiPath } from '../../api/client';
import { keys, useTeams, useUsers } from '../../api/queries';
import type { Team, TeamInput } from '../../api/types';
import { useI18n } from '../../i18n/I18nProvider';
import { PageError, errorMessage } from '../../app/PageState';
import { showOnField } from './formErrors';

interface TeamForm {
  name: string;
  members: string[];
  leads: string[];
}

export default function TeamsPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const { message, modal } = App.useApp();
  const client = useQueryClient();
  const teams = useTeams();
  const users = useUsers();
  const [editing, setEditing] = useState<Team | 'new' | null>(null);
  const nameOf = (id: string) => users.data?.find((u) => u.id === id)?.name ?? t('common.unknownUser');

  const remove = (team: Team) =>
    modal.confirm({
      title: t('teams.deleteConfirm', { name: team.name }),
      okButtonProps: { danger: true },
      okText: t('common.delete'),
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          await api.delete(apiPath`/api/v1/teams/${team.id}`);
          await client.invalidateQueries({ queryKey: keys.teams });
          message.success(t('teams.deleted', { name: team.name }));
        } catch (error) {
          message.error(errorMessage(i18n, error));
        }
      },
    });

  if (teams.error) return <PageError error={teams.error} onRetry={() => teams.refetch()} />;
  return (
    <div>
      <div style={{ display: 'flex', marginBottom: 12 }}>
        <Typography.Title level={4} style={{ margin: 0, flex: 1 }}>{t('settings.teams')}</Typography.Title>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} data-testid="new-team">
          {t('teams.new')}
        </Button>
      </div>
      <Table<Team>
        rowKey="id"
        loading={teams.isLoading}
        dataSource={teams.data ?? []}
        pagination={false}
        scroll={{ x: 'max-content' }}
        data-testid="teams-table"
        locale={{ emptyText: <Empty description={t('teams.empty')} /> }}
        columns={[
          { key: 'name', title: t('common.name'), dataIndex: 'name' },
          {
            key: 'leads',
            title: t('teams.leads'),
            render: (_, team) => team.members.filter((m) => m.is_lead).map((m) => <Tag key={m.user_id} color="gold">{nameOf(m.user_id)}</Tag>),
          },
          {
            key: 'members',
            title: t('teams.members'),
            render: (_, team) => team.members.filter((m) => !m.is_lead).map((m) => <Tag key={m.user_id}>{nameOf(m.user_id)}</Tag>),
          },
          {
            key: 'actions',
            title: t('common.actions'),
            render: (_, team) => (
              <Space>
                <Button size="small" icon={<EditOutlined />} onClick={() => setEditing(team)} aria-label={`${t('common.edit')} ${team.name}`} />
                <Button size="small" danger icon={<DeleteOutlined />} onClick={() => remove(team)} aria-label={`${t('common.delete')} ${team.name}`} />
              </Space>
            ),
          },
        ]}
      />
      {editing && <TeamModal team={editing === 'new' ? null : editing} onClose={() => setEditing(null)} />}
    </div>
  );
}

function TeamModal({ team, onClose }: { team: Team | null; onClose: () => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const { message } = App.useApp();
  const client = useQueryClient();
  const users = useUsers();
  const [form] = Form.useForm<TeamForm>();
  const [busy, setBusy] = useState(false);
  const members = Form.useWatch('members', form) ?? [];
  const userOptions = (ids?: string[]) =>
    (users.data ?? []).filter((u) => !ids || ids.includes(u.id)).map((u) => ({ value: u.id, label: u.name }));

  const submit = async () => {
    const values = await form.validateFields();
    const body: TeamInput = {
      name: values.name,
      members: (values.members ?? []).map((user_id) => ({ user_id, is_lead: (values.leads ?? []).includes(user_id) })),
    };
    setBusy(true);
    try {
      const saved = team ? await api.put<Team>(apiPath`/api/v1/teams/${team.id}`, body) : await api.post<Team>('/api/v1/teams', body);
      await client.invalidateQueries({ queryKey: keys.teams });
      message.success(t('teams.saved', { name: saved.name }));
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
      title={team ? t('teams.edit') : t('teams.new')}
      destroyOnHidden
    >
      <Form
        form={form}
        layout="vertical"
        data-testid="team-form"
        initialValues={{
          name: team?.name ?? '',
          members: team?.members.map((m) => m.user_id) ?? [],
          leads: team?.members.filter((m) => m.is_lead).map((m) => m.user_id) ?? [],
        }}
        onValuesChange={(changed: Partial<TeamForm>) => {
          // A lead who leaves the team is no longer its lead.
          if (changed.members) form.setFieldValue('leads', (form.getFieldValue('leads') ?? []).filter((id: string) => changed.members?.includes(id)));
        }}
      >
        <Form.Item name="name" label={t('common.name')} rules={[{ required: true, whitespace: true, message: t('teams.nameNeeded') }]}>
          <Input autoFocus />
        </Form.Item>
        <Form.Item name="members" label={t('teams.members')}>
          <Select mode="multiple" options={userOptions()} optionFilterProp="label" aria-label={t('teams.members')} />
        </Form.Item>
        <Form.Item name="leads" label={t('teams.leads')} extra={t('teams.leadsHint')}>
          <Select mode="multiple" options={userOptions(members)} optionFilterProp="label" aria-label={t('teams.leads')} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
