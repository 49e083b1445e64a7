// Creating or changing an inbound hook: its name, object, kind of proof (fixed once created),
// the optional field that finds the record to update, the mapping rows (record field ← JSON
// pointer into an item, optionally translated through a system of the semantic dictionary)
// and its switch; the server's refusal shown in the dialog.
import { Alert, App, Button, Flex, Form, Input, Modal, Radio, Select, Switch, Typography } from 'antd';
import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api, apiPath } from '../../../api/client';
import type { ObjectDef } from '../../../api/types';
import { useI18n } from '../../../i18n/I18nProvider';
import { errorMessage } from '../../../app/PageState';
import { hookKeys, type CreatedHook, type Hook } from './api';
import { fieldRepeated, hookForm, hookInput, matchFields, targetFields, validPointer, type HookForm, type MappingRow } from './model';

export function HookModal({ hook, objects, onClose, onCreated }: { hook: Hook | null; objects: ObjectDef[]; onClose: () => void; onCreated: (created: CreatedHook) => void }) {
  const i18n = useI18n();
  const { t, label } = i18n;
  const { message } = App.useApp();
  const client = useQueryClient();
  const [form] = Form.useForm<HookForm>();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const objectName = Form.useWatch('object', form) ?? hook?.object;
  const object = objects.find((o) => o.api_name === objectName);
  const fieldOptions = (fields: ObjectDef['fields']) => fields.map((f) => ({ value: f.api_name, label: label(f.label) }));

  const submit = async () => {
    setFailure(null);
    // (An invalid form shows its errors on the fields.)
    const values = await form.validateFields().catch(() => null);
    if (!values) return;
    setBusy(true);
    try {
      const body = hookInput(values, hook);
      if (hook) await api.put<Hook>(apiPath`/api/v1/inbound-hooks/${hook.id}`, body);
      else onCreated(await api.post<CreatedHook>('/api/v1/inbound-hooks', body));
      await client.invalidateQueries({ queryKey: hookKeys.all });
      message.success(t('common.saved'));
      onClose();
    } catch (error) {
      setFailure(errorMessage(i18n, error));
    } finally {
      setBusy(false);
    }
  };

  const rows = (): MappingRow[] => form.getFieldValue('mapping') ?? [];

  return (
    <Modal
      open
      onCancel={onClose}
      onOk={submit}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      confirmLoading={busy}
      title={hook ? t('inbound.edit') : t('inbound.new')}
      width={720}
      destroyOnHidden
    >
      <Form
        form={form}
        layout="vertical"
        data-testid="hook-form"
        preserve={false}
        initialValues={hookForm(hook)}
        onValuesChange={(changed: Partial<HookForm>) => {
          setFailure(null);
          // Another object has other fields: its mapping starts afresh.
          if ('object' in changed) form.setFieldsValue({ match_field: undefined, mapping: [{}] });
        }}
      >
        <Flex gap={12} wrap>
          <Form.Item name="name" label={t('inbound.name')} style={{ flex: '1 1 220px' }} rules={[{ required: true, whitespace: true, message: t('inbound.nameNeeded') }]}>
            <Input maxLength={100} placeholder={t('inbound.namePlaceholder')} />
          </Form.Item>
          <Form.Item name="object" label={t('inbound.object')} style={{ flex: '1 1 180px' }} rules={[{ required: true, message: t('inbound.objectNeeded') }]}>
            <Select
              showSearch={{ optionFilterProp: 'label' }}
              aria-label={t('inbound.object')}
              options={objects.filter((o) => !o.archived_at).map((o) => ({ value: o.api_name, label: label(o.label) }))}
            />
          </Form.Item>
        </Flex>
        <Form.Item name="auth" label={t('inbound.auth')} extra={hook ? t('inbound.authFixed') : undefined}>
          <Radio.Group
            disabled={Boolean(hook)}
            options={[
              { value: 'standard_webhooks', label: t('inbound.auth.standard_webhooks') },
              { value: 'token', label: t('inbound.auth.token') },
            ]}
          />
        </Form.Item>
        <Form.Item
          name="match_field"
          label={t('inbound.matchField')}
          extra={t('inbound.matchFieldHint')}
          dependencies={['mapping']}
          rules={[
            {
              validator: async (_, value: string | undefined) => {
                if (value && !rows().some((row) => row?.field === value)) throw new Error(t('inbound.matchUnmapped'));
              },
            },
          ]}
        >
          <Select allowClear showSearch={{ optionFilterProp: 'label' }} disabled={!object} aria-label={t('inbound.matchField')} placeholder={t('inbound.matchNone')} options={fieldOptions(matchFields(object))} />
        </Form.Item>
        <Typography.Text strong style={{ display: 'block' }}>
          {t('inbound.mapping')}
        </Typography.Text>
        <Typography.Paragraph type="secondary">{t('inbound.mappingHint')}</Typography.Paragraph>
        <Form.List name="mapping">
          {(fields, { add, remove }) => (
            <>
              {fields.map((row) => (
                <Flex key={row.key} gap={8} wrap align="flex-start" data-testid="mapping-row">
                  <Form.Item
                    name={[row.name, 'field']}
                    style={{ flex: '1 1 150px', minWidth: 0, marginBottom: 8 }}
                    rules={[
                      { required: true, message: t('inbound.fieldNeeded') },
                      { validator: async () => (fieldRepeated(rows(), row.name) ? Promise.reject(new Error(t('inbound.fieldRepeated'))) : undefined) },
                    ]}
                  >
                    <Select
                      disabled={!object}
                      showSearch={{ optionFilterProp: 'label' }}
                      aria-label={t('inbound.field')}
                      placeholder={t('inbound.field')}
                      options={fieldOptions(targetFields(object))}
                    />
                  </Form.Item>
                  <Form.Item
                    name={[row.name, 'pointer']}
                    style={{ flex: '1 1 150px', minWidth: 0, marginBottom: 8 }}
                    rules={[{ validator: async (_, value: string | undefined) => (validPointer(value) ? undefined : Promise.reject(new Error(t('inbound.pointerInvalid')))) }]}
                  >
                    <Input aria-label={t('inbound.pointer')} placeholder="/orderNo" spellCheck={false} style={{ fontFamily: 'monospace' }} />
                  </Form.Item>
                  <Form.Item name={[row.name, 'system']} style={{ flex: '1 1 120px', minWidth: 0, marginBottom: 8 }}>
                    <Input aria-label={t('inbound.system')} placeholder={t('inbound.system')} maxLength={50} spellCheck={false} />
                  </Form.Item>
                  <Button icon={<DeleteOutlined />} onClick={() => remove(row.name)} disabled={fields.length === 1} aria-label={t('inbound.removeRow')} data-testid="mapping-remove" />
                </Flex>
              ))}
              <Button type="dashed" icon={<PlusOutlined />} onClick={() => add({})} disabled={!object} block style={{ marginBottom: 16 }} data-testid="mapping-add">
                {t('inbound.addRow')}
              </Button>
            </>
          )}
        </Form.List>
        <Form.Item name="enabled" label={t('inbound.enabled')} valuePropName="checked">
          <Switch />
        </Form.Item>
        {failure && <Alert type="error" showIcon title={failure} data-testid="hook-error" />}
      </Form>
    </Modal>
  );
}
