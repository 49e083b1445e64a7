// Creating or changing a value mapping: its system (free text, as templates name it), object
// and field (a single-select or text field; the three fixed once created), description, and
// rows of CRM value ↔ the system's code — a select of the field's options for a select field —
// checked for repeats before saving (a mapping is one-to-one); the server's refusal shown in
// the dialog.
import { Alert, App, Button, Flex, Form, Input, Modal, Select, Typography } from 'antd';
import { DeleteOutlined, PlusOutlined, SwapOutlined } from '@ant-design/icons';
import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api, apiPath } from '../../../api/client';
import type { ObjectDef } from '../../../api/types';
import { useI18n } from '../../../i18n/I18nProvider';
import { errorMessage } from '../../../app/PageState';
import { dictionaryKeys, type Unmapped, type ValueMap } from './api';
import { activeObjects, isRepeated, mapForm, mappableFields, optionsOf, validSystem, valueMapInput, type EntryRow, type MapForm } from './model';

export function MapEditor({ map, missed, objects, onClose }: { map: ValueMap | null; missed?: Unmapped; objects: ObjectDef[]; onClose: () => void }) {
  const i18n = useI18n();
  const { t, label } = i18n;
  const { message } = App.useApp();
  const client = useQueryClient();
  const [form] = Form.useForm<MapForm>();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const objectName = Form.useWatch('object', form) ?? map?.object;
  const fieldName = Form.useWatch('field', form) ?? map?.field;
  const system = Form.useWatch('system', form) ?? map?.system;
  const object = objects.find((o) => o.api_name === objectName);
  const field = mappableFields(object).find((f) => f.api_name === fieldName);
  const options = optionsOf(field);

  const submit = async () => {
    setFailure(null);
    // (An invalid form shows its errors on the fields.)
    const values = await form.validateFields().catch(() => null);
    if (!values) return;
    setBusy(true);
    try {
      const body = valueMapInput(values);
      if (map) await api.put<ValueMap>(apiPath`/api/v1/dictionary/${map.id}`, body);
      else await api.post<ValueMap>('/api/v1/dictionary', body);
      await client.invalidateQueries({ queryKey: dictionaryKeys.all });
      message.success(t('common.saved'));
      onClose();
    } catch (error) {
      setFailure(errorMessage(i18n, error));
    } finally {
      setBusy(false);
    }
  };

  /** A cell's rules: needed when the other side of its row is filled, never a repeat. */
  const cellRules = (index: number, column: keyof EntryRow, other: keyof EntryRow) => [
    {
      validator: async (_: unknown, value: string | undefined) => {
        const rows: EntryRow[] = form.getFieldValue('entries') ?? [];
        if (!value?.trim() && rows[index]?.[other]?.trim()) throw new Error(column === 'crm_value' ? t('dictionary.crmNeeded') : t('dictionary.codeNeeded'));
        if (isRepeated(rows, index, column)) throw new Error(column === 'crm_value' ? t('dictionary.crmRepeated') : t('dictionary.codeRepeated'));
      },
    },
  ];

  return (
    <Modal
      open
      onCancel={onClose}
      onOk={submit}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      confirmLoading={busy}
      title={map ? t('dictionary.edit') : t('dictionary.new')}
      width={680}
      destroyOnHidden
    >
      <Form
        form={form}
        layout="vertical"
        data-testid="value-map-form"
        preserve={false}
        initialValues={mapForm(map, missed)}
        onValuesChange={(changed: Partial<MapForm>) => {
          setFailure(null);
          if ('object' in changed) form.setFieldValue('field', undefined);
        }}
      >
        <Flex gap={12} wrap>
          <Form.Item
            name="system"
            label={t('dictionary.system')}
            style={{ flex: '1 1 160px' }}
            extra={map ? undefined : t('dictionary.systemHint')}
            rules={[{ validator: async (_, value: string | undefined) => (validSystem(value ?? '') ? undefined : Promise.reject(new Error(t('dictionary.systemInvalid')))) }]}
          >
            <Input disabled={Boolean(map)} placeholder="ERP" maxLength={50} spellCheck={false} />
          </Form.Item>
          <Form.Item name="object" label={t('dictionary.object')} style={{ flex: '1 1 160px' }} rules={[{ required: true, message: t('dictionary.objectNeeded') }]}>
            <Select
              disabled={Boolean(map)}
              showSearch={{ optionFilterProp: 'label' }}
              aria-label={t('dictionary.object')}
              options={activeObjects(objects).map((o) => ({ value: o.api_name, label: label(o.label) }))}
            />
          </Form.Item>
          <Form.Item
            name="field"
            label={t('dictionary.field')}
            style={{ flex: '1 1 160px' }}
            rules={[{ required: true, message: t('dictionary.fieldNeeded') }]}
            extra={object && !map && mappableFields(object).length === 0 ? t('dictionary.noFields') : undefined}
          >
            <Select
              disabled={Boolean(map) || !object}
              showSearch={{ optionFilterProp: 'label' }}
              aria-label={t('dictionary.field')}
              options={mappableFields(object).map((f) => ({ value: f.api_name, label: `${label(f.label)} · ${t(f.type === 'select' ? 'dictionary.kind.select' : 'dictionary.kind.text')}` }))}
            />
          </Form.Item>
        </Flex>
        {map && (
          <Typography.Paragraph type="secondary" style={{ marginTop: -8 }}>
            {t('dictionary.fixed')}
          </Typography.Paragraph>
        )}
        <Form.Item name="description" label={t('dictionary.description')}>
          <Input maxLength={500} />
        </Form.Item>
        <Typography.Text strong style={{ display: 'block', marginBottom: 8 }}>
          {t('dictionary.entries')}
        </Typography.Text>
        <Form.List name="entries">
          {(rows, { add, remove }) => (
            <>
              <Flex gap={8} style={{ marginBottom: 4 }}>
                <Typography.Text type="secondary" style={{ flex: 1 }}>
                  {t('dictionary.crmValue')}
                </Typography.Text>
                <span style={{ width: 14 }} />
                <Typography.Text type="secondary" style={{ flex: 1 }}>
                  {t('dictionary.externalCode', { system: system?.trim() || t('dictionary.system') })}
                </Typography.Text>
                <span style={{ width: 32 }} />
              </Flex>
              {rows.map((row) => (
                <Flex key={row.key} gap={8} align="flex-start" data-testid="entry-row">
                  <Form.Item name={[row.name, 'crm_value']} style={{ flex: 1, minWidth: 0, marginBottom: 8 }} rules={cellRules(row.name, 'crm_value', 'external_code')}>
                    {field?.type === 'select' ? (
                      <Select
                        allowClear
                        showSearch={{ optionFilterProp: 'label' }}
                        aria-label={t('dictionary.crmValue')}
                        placeholder={t('dictionary.chooseOption')}
                        options={options.map((o) => ({ value: o.value, label: `${label(o.label)} (${o.value})` }))}
                      />
                    ) : (
                      <Input aria-label={t('dictionary.crmValue')} maxLength={200} spellCheck={false} />
                    )}
                  </Form.Item>
                  <SwapOutlined aria-hidden style={{ marginTop: 9 }} />
                  <Form.Item name={[row.name, 'external_code']} style={{ flex: 1, minWidth: 0, marginBottom: 8 }} rules={cellRules(row.name, 'external_code', 'crm_value')}>
                    <Input aria-label={t('dictionary.code')} maxLength={200} spellCheck={false} />
                  </Form.Item>
                  <Button icon={<DeleteOutlined />} onClick={() => remove(row.name)} aria-label={t('dictionary.removeRow')} data-testid="entry-remove" />
                </Flex>
              ))}
              <Button type="dashed" icon={<PlusOutlined />} onClick={() => add({})} block data-testid="entry-add">
                {t('dictionary.addRow')}
              </Button>
            </>
          )}
        </Form.List>
        {failure && <Alert type="error" showIcon title={failure} style={{ marginTop: 12 }} data-testid="value-map-error" />}
      </Form>
    </Modal>
  );
}
