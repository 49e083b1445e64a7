// The object manager: every object with its field count, and creating a custom object
// (e.g. 设备 / Equipment) — it appears in the menu at once, no deploy.
import { App, Button, Col, Form, Input, Modal, Row, Table, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import { keys, useObjects } from '../../api/queries';
import type { ObjectDef } from '../../api/types';
import { useI18n } from '../../i18n/I18nProvider';
import { errorMessage } from '../../app/PageState';
import { objectIcon } from '../../app/objectIcons';
import { eitherLanguage, givenLabel } from './apiName';
import { showOnField } from './formErrors';

interface NewObjectForm {
  api_name?: string;
  label?: { en?: string; zh?: string };
  plural_label?: { en?: string; zh?: string };
}

export default function ObjectManager() {
  const i18n = useI18n();
  const { t, label } = i18n;
  const objects = useObjects();
  const [open, setOpen] = useState(false);
  return (
    <div>
      <div style={{ display: 'flex', alignItems: 'center', marginBottom: 12 }}>
        <Typography.Title level={4} style={{ margin: 0, flex: 1 }}>
          {t('settings.objects')}
        </Typography.Title>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setOpen(true)} data-testid="new-object">
          {t('settings.newObject')}
        </Button>
      </div>
      <Table<ObjectDef>
        rowKey="api_name"
        loading={objects.isLoading}
        dataSource={objects.data ?? []}
        pagination={false}
        scroll={{ x: 'max-content' }}
        columns={[
          {
            key: 'label',
            title: t('common.name'),
            render: (_, o) => (
              <Link to={`/settings/objects/${o.api_name}`}>
                {objectIcon(o.api_name)} {label(o.label)}
              </Link>
            ),
          },
          { key: 'api', title: t('common.apiName'), render: (_, o) => <Typography.Text code>{o.api_name}</Typography.Text> },
          { key: 'fields', title: t('settings.fields'), render: (_, o) => t('settings.fieldCount', { count: o.fields.filter((f) => !f.archived_at).length }) },
          {
            key: 'kind',
            title: t('common.type'),
            render: (_, o) => (o.is_standard ? <Tag>{t('common.standard')}</Tag> : <Tag color="purple">{t('common.custom')}</Tag>),
          },
        ]}
      />
      {open && <NewObjectModal open onClose={() => setOpen(false)} />}
    </div>
  );
}

function NewObjectModal({ open, onClose }: { open: boolean; onClose: () => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const { message } = App.useApp();
  const navigate = useNavigate();
  const client = useQueryClient();
  const [form] = Form.useForm<NewObjectForm>();
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    const values = await form.validateFields();
    setBusy(true);
    try {
      const created = await api.post<ObjectDef>('/api/v1/objects', {
        label: givenLabel(values.label),
        plural_label: givenLabel(values.plural_label),
        api_name: values.api_name?.trim() || undefined,
      });
      await client.invalidateQueries({ queryKey: keys.objects });
      message.success(t('settings.objectCreated', { name: i18n.label(created.label), api: created.api_name }));
      onClose();
      navigate(`/settings/objects/${created.api_name}`);
    } catch (error) {
      if (!showOnField(form, error, i18n)) message.error(errorMessage(i18n, error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      open={open}
      onCancel={onClose}
      onOk={submit}
      okText={t('common.create')}
      cancelText={t('common.cancel')}
      confirmLoading={busy}
      title={t('settings.newObject')}
      destroyOnHidden
    >
      <Form
        form={form}
        layout="vertical"
        data-testid="new-object-form"
      >
        <Typography.Text strong>{t('settings.singular')}</Typography.Text>
        <Row gutter={12}>
          <Col span={12}>
            <Form.Item name={['label', 'zh']} label={t('common.labelZh')} dependencies={[['label', 'en']]} rules={[eitherLanguage(['label'], t('settings.nameNeeded'))]}>
              <Input autoFocus />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item name={['label', 'en']} label={t('common.labelEn')}>
              <Input placeholder={t('settings.optional')} />
            </Form.Item>
          </Col>
        </Row>
        <Typography.Text strong>{t('settings.plural')}</Typography.Text>
        <Row gutter={12}>
          <Col span={12}>
            <Form.Item name={['plural_label', 'zh']} label={t('common.labelZh')}>
              <Input placeholder={t('settings.optional')} />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item name={['plural_label', 'en']} label={t('common.labelEn')}>
              <Input placeholder={t('settings.optional')} />
            </Form.Item>
          </Col>
        </Row>
        <Form.Item name="api_name" label={t('common.apiName')} extra={t('settings.apiNameHint')}>
          <Input placeholder={t('settings.optional')} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
