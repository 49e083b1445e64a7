// One object's fields: their types and rules, archiving and restoring, and adding a field of
// any type (select options, relation target, currency, formula, auto-number format with a
// preview, attachment limits…) with the server's errors shown on the form.
import { App, Button, Checkbox, Col, Form, Input, InputNumber, Modal, Row, Select, Space, Table, Tag, Typography, Breadcrumb } from 'antd';
import { LayoutOutlined, MinusCircleOutlined, PlusOutlined, UnorderedListOutlined } from '@ant-design/icons';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { api, apiPath } from '../../api/client';
import { keys, useObject } from '../../api/queries';
import type { FieldDef, FieldType, ObjectDef } from '../../api/types';
import { useI18n } from '../../i18n/I18nProvider';
import { PageError, PageLoading, errorMessage } from '../../app/PageState';
import { CURRENCIES } from '../records/fields/FieldInput';
import { formatAutoNumber, validAutoNumberFormat } from '../records/fields/autoNumber';
import { eitherLanguage, givenLabel } from './apiName';
import { showOnField } from './formErrors';

/** Field types global search can look in; it always does for emails, phones and auto numbers. */
const TEXTUAL: FieldType[] = ['text', 'long_text', 'email', 'phone', 'url', 'auto_number'];
const SEARCHED_ALWAYS: FieldType[] = ['email', 'phone', 'auto_number'];
/** Types the server fills in: never required, and unique by nature (auto numbers). */
const COMPUTED: FieldType[] = ['formula', 'auto_number'];
/** Types whose values cannot be unique. */
const NEVER_UNIQUE: FieldType[] = ['long_text', 'boolean', 'multi_select', 'multi_user', 'address', 'attachment'];
const AUTO_NUMBER_EXAMPLE = 'HT-{YYYY}-{0000}';

export const FIELD_TYPES: FieldType[] = [
  'text', 'long_text', 'integer', 'decimal', 'currency', 'percent', 'boolean', 'date', 'datetime', 'select', 'multi_select',
  'email', 'phone', 'url', 'relation', 'user', 'multi_user', 'address', 'attachment', 'auto_number', 'formula',
];

export default function ObjectFields() {
  const { object: apiName } = useParams();
  const { object, objects, isLoading } = useObject(apiName);
  const i18n = useI18n();
  const { t, label } = i18n;
  const { message, modal } = App.useApp();
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  if (isLoading) return <PageLoading />;
  if (!object || !objects) return <PageError error={new Error('object')} />;

  const archive = (field: FieldDef) =>
    modal.confirm({
      title: t('settings.archiveConfirm'),
      okText: t('settings.archive'),
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          await api.delete(apiPath`/api/v1/objects/${object.api_name}/fields/${field.api_name}`);
          await client.invalidateQueries({ queryKey: keys.objects });
        } catch (error) {
          message.error(errorMessage(i18n, error));
        }
      },
    });
  // Global search looks in a text field marked searchable (names, emails, phones and unique
  // fields always).
  const setSearchable = async (field: FieldDef, searchable: boolean) => {
    try {
      await api.patch(apiPath`/api/v1/objects/${object.api_name}/fields/${field.api_name}`, { config: { ...field.config, searchable } });
      await client.invalidateQueries({ queryKey: keys.objects });
    } catch (error) {
      message.error(errorMessage(i18n, error));
    }
  };

  const restore = async (field: FieldDef) => {
    try {
      await api.post(apiPath`/api/v1/objects/${object.api_name}/fields/${field.api_name}/restore`);
      await client.invalidateQueries({ queryKey: keys.objects });
    } catch (error) {
      message.error(errorMessage(i18n, error));
    }
  };

  return (
    <div>
      <Breadcrumb
        items={[{ title: <Link to="/settings/objects">{t('settings.objects')}</Link> }, { title: label(object.label) }]}
        style={{ marginBottom: 8 }}
      />
      <div style={{ display: 'flex', alignItems: 'center', gap: 8, marginBottom: 12, flexWrap: 'wrap' }}>
        <Typography.Title level={4} style={{ margin: 0, flex: 1 }}>
          {label(object.label)} · {t('settings.fields')}
        </Typography.Title>
        <Link to={`/o/${object.api_name}`}>
          <Button icon={<UnorderedListOutlined />}>{label(object.plural_label)}</Button>
        </Link>
        <Link to={`/settings/objects/${object.api_name}/layout`}>
          <Button icon={<LayoutOutlined />}>{t('settings.layout')}</Button>
        </Link>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setOpen(true)} data-testid="new-field">
          {t('settings.newField')}
        </Button>
      </div>
      <Table<FieldDef>
        rowKey="api_name"
        dataSource={object.fields}
        pagination={false}
        scroll={{ x: 'max-content' }}
        columns={[
          { key: 'label', title: t('common.name'), render: (_, f) => <span>{label(f.label)}</span> },
          { key: 'api', title: t('common.apiName'), render: (_, f) => <Typography.Text code>{f.api_name}</Typography.Text> },
          { key: 'type', title: t('common.type'), render: (_, f) => <Tag>{t(`type.${f.type}`)}</Tag> },
          {
            key: 'rules',
            title: t('common.required'),
            render: (_, f) => (
              <Space size={4}>
                {f.required && <Tag color="red">{t('common.required')}</Tag>}
                {f.unique && <Tag color="gold">{t('common.unique')}</Tag>}
                {TEXTUAL.includes(f.type) && !f.archived_at && (
                  <Checkbox
                    checked={SEARCHED_ALWAYS.includes(f.type) || f.unique || f.api_name === object.name_field || Boolean(f.config?.searchable)}
                    disabled={SEARCHED_ALWAYS.includes(f.type) || f.unique || f.api_name === object.name_field}
                    onChange={(e) => setSearchable(f, e.target.checked)}
                    data-testid={`searchable-${f.api_name}`}
                  >
                    {t('settings.searchable')}
                  </Checkbox>
                )}
                {f.is_standard && <Tag>{t('common.standard')}</Tag>}
                {f.archived_at && <Tag color="default">{t('settings.archived')}</Tag>}
              </Space>
            ),
          },
          {
            key: 'actions',
            title: t('common.actions'),
            render: (_, f) =>
              f.is_standard || f.api_name === object.name_field ? null : f.archived_at ? (
                <Button size="small" onClick={() => restore(f)}>{t('settings.restore')}</Button>
              ) : (
                <Button size="small" danger type="text" onClick={() => archive(f)}>{t('settings.archive')}</Button>
              ),
          },
        ]}
      />
      {open && <NewFieldModal object={object} objects={objects} open onClose={() => setOpen(false)} />}
    </div>
  );
}

interface NewFieldForm {
  type: FieldType;
  api_name?: string;
  label?: { en?: string; zh?: string };
  required?: boolean;
  unique?: boolean;
  searchable?: boolean;
  config?: {
    options?: { value?: string; label?: { en?: string; zh?: string } }[];
    target?: string;
    default_currency?: string;
    scale?: number;
    expression?: string;
    result_type?: 'text' | 'decimal' | 'boolean';
    format?: string;
    images_only?: boolean;
    max_files?: number | null;
    max_size_mb?: number | null;
  };
}

function NewFieldModal({ object, objects, open, onClose }: { object: ObjectDef; objects: ObjectDef[]; open: boolean; onClose: () => void }) {
  const i18n = useI18n();
  const { t, label } = i18n;
  const { message } = App.useApp();
  const client = useQueryClient();
  const [form] = Form.useForm<NewFieldForm>();
  const [busy, setBusy] = useState(false);
  const type = Form.useWatch('type', form) as FieldType | undefined;
  const format = (Form.useWatch(['config', 'format'], form) as string | undefined) ?? '';

  const submit = async () => {
    const values = await form.validateFields();
    const config: Record<string, unknown> = {};
    const c = values.config ?? {};
    if (type === 'select' || type === 'multi_select') {
      config.options = (c.options ?? []).map((o) => ({ label: givenLabel(o.label), ...(o.value?.trim() ? { value: o.value.trim() } : {}) }));
    }
    if (type === 'relation') config.target = c.target;
    if (values.searchable && type && TEXTUAL.includes(type)) config.searchable = true;
    if (type === 'currency') config.default_currency = c.default_currency;
    if ((type === 'decimal' || type === 'percent' || type === 'currency') && c.scale !== undefined && c.scale !== null) config.scale = c.scale;
    if (type === 'formula') {
      config.expression = c.expression;
      config.result_type = c.result_type;
    }
    if (type === 'auto_number') config.format = c.format?.trim();
    if (type === 'attachment') {
      if (c.images_only) config.images_only = true;
      if (typeof c.max_files === 'number') config.max_files = c.max_files;
      if (typeof c.max_size_mb === 'number') config.max_size_mb = c.max_size_mb;
    }
    setBusy(true);
    try {
      const changed = await api.post<ObjectDef>(apiPath`/api/v1/objects/${object.api_name}/fields`, {
        api_name: values.api_name?.trim() || undefined,
        label: givenLabel(values.label),
        type: values.type,
        required: Boolean(values.required),
        unique: Boolean(values.unique),
        config,
      });
      await client.invalidateQueries({ queryKey: keys.objects });
      const added = changed.fields[changed.fields.length - 1];
      message.success(t('settings.fieldCreated', { name: label(added.label), api: added.api_name }));
      onClose();
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
      title={t('settings.newField')}
      width={640}
      destroyOnHidden
    >
      <Form
        form={form}
        layout="vertical"
        data-testid="new-field-form"
        initialValues={{ type: 'text', config: { default_currency: 'CNY', result_type: 'text', options: [], format: AUTO_NUMBER_EXAMPLE } }}
      >
        <Form.Item name="type" label={t('common.type')} rules={[{ required: true }]}>
          <Select
            showSearch={{ optionFilterProp: 'label' }}
            aria-label={t('common.type')}
            options={FIELD_TYPES.map((ft) => ({ value: ft, label: t(`type.${ft}`) }))}
          />
        </Form.Item>
        <Row gutter={12}>
          <Col span={12}>
            <Form.Item name={['label', 'zh']} label={t('common.labelZh')} dependencies={[['label', 'en']]} rules={[eitherLanguage(['label'], t('settings.nameNeeded'))]}>
              <Input />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item name={['label', 'en']} label={t('common.labelEn')}>
              <Input placeholder={t('settings.optional')} />
            </Form.Item>
          </Col>
        </Row>
        <Form.Item name="api_name" label={t('common.apiName')} extra={t('settings.apiNameHint')}>
          <Input placeholder={t('settings.optional')} />
        </Form.Item>
        {type && !COMPUTED.includes(type) && (
          <Space size="large">
            <Form.Item name="required" valuePropName="checked" noStyle>
              <Checkbox>{t('common.required')}</Checkbox>
            </Form.Item>
            {!NEVER_UNIQUE.includes(type) && (
              <Form.Item name="unique" valuePropName="checked" noStyle>
                <Checkbox>{t('common.unique')}</Checkbox>
              </Form.Item>
            )}
            {type && TEXTUAL.includes(type) && (
              <Form.Item name="searchable" valuePropName="checked" noStyle>
                <Checkbox>{t('settings.searchable')}</Checkbox>
              </Form.Item>
            )}
          </Space>
        )}
        {(type === 'select' || type === 'multi_select') && (
          <Form.List name={['config', 'options']}>
            {(items, { add, remove }) => (
              <div style={{ marginTop: 16 }}>
                <Typography.Text strong>{t('settings.options')}</Typography.Text>
                {items.map((item) => (
                  <Space key={item.key} align="baseline" wrap style={{ display: 'flex', marginTop: 8 }}>
                    <Form.Item
                      name={[item.name, 'label', 'zh']}
                      dependencies={[['config', 'options', item.name, 'label', 'en']]}
                      rules={[eitherLanguage(['config', 'options', item.name, 'label'], t('settings.nameNeeded'))]}
                      noStyle
                    >
                      <Input placeholder={t('common.labelZh')} style={{ width: 150 }} />
                    </Form.Item>
                    <Form.Item name={[item.name, 'label', 'en']} noStyle>
                      <Input placeholder={t('common.labelEn')} style={{ width: 150 }} />
                    </Form.Item>
                    <Form.Item name={[item.name, 'value']} noStyle>
                      <Input placeholder={t('settings.optionValue')} style={{ width: 130 }} />
                    </Form.Item>
                    <MinusCircleOutlined onClick={() => remove(item.name)} aria-label={t('common.remove')} />
                  </Space>
                ))}
                <Button type="dashed" icon={<PlusOutlined />} onClick={() => add({ value: '', label: { en: '', zh: '' } })} style={{ marginTop: 8 }}>
                  {t('settings.addOption')}
                </Button>
              </div>
            )}
          </Form.List>
        )}
        {type === 'relation' && (
          <Form.Item name={['config', 'target']} label={t('settings.target')} rules={[{ required: true, message: t('common.fieldRequired') }]} style={{ marginTop: 16 }}>
            <Select options={objects.map((o) => ({ value: o.api_name, label: label(o.label) }))} showSearch={{ optionFilterProp: 'label' }} />
          </Form.Item>
        )}
        {type === 'currency' && (
          <Form.Item name={['config', 'default_currency']} label={t('settings.defaultCurrency')} style={{ marginTop: 16 }}>
            <Select options={CURRENCIES.map((c) => ({ value: c, label: c }))} />
          </Form.Item>
        )}
        {(type === 'decimal' || type === 'percent' || type === 'currency') && (
          <Form.Item name={['config', 'scale']} label={t('settings.scale')}>
            <InputNumber min={0} max={8} precision={0} placeholder="2" />
          </Form.Item>
        )}
        {type === 'auto_number' && (
          <Form.Item
            name={['config', 'format']}
            label={t('settings.autoNumberFormat')}
            style={{ marginTop: 16 }}
            rules={[
              { required: true, message: t('common.fieldRequired') },
              { validator: (_rule, v: unknown) => (typeof v !== 'string' || !v.trim() || validAutoNumberFormat(v) ? Promise.resolve() : Promise.reject(new Error(t('settings.autoNumberInvalid')))) },
            ]}
            extra={
              <>
                <div>{t('settings.autoNumberHint')}</div>
                {validAutoNumberFormat(format) && (
                  <div data-testid="auto-number-preview">
                    {t('settings.autoNumberPreview', { preview: formatAutoNumber(format.trim(), 1, new Date()) })}
                  </div>
                )}
              </>
            }
          >
            <Input placeholder={AUTO_NUMBER_EXAMPLE} />
          </Form.Item>
        )}
        {type === 'attachment' && (
          <Space wrap size="large" align="end" style={{ marginTop: 16 }}>
            <Form.Item name={['config', 'images_only']} valuePropName="checked" style={{ marginBottom: 0 }}>
              <Checkbox>{t('settings.imagesOnly')}</Checkbox>
            </Form.Item>
            <Form.Item name={['config', 'max_files']} label={t('settings.maxFiles')} style={{ marginBottom: 0 }}>
              <InputNumber min={1} max={20} precision={0} placeholder="10" />
            </Form.Item>
            <Form.Item name={['config', 'max_size_mb']} label={t('settings.maxSizeMb')} style={{ marginBottom: 0 }}>
              <InputNumber min={1} max={25} precision={0} placeholder="10" />
            </Form.Item>
          </Space>
        )}
        {type === 'formula' && (
          <>
            <Form.Item name={['config', 'expression']} label={t('settings.expression')} rules={[{ required: true, message: t('common.fieldRequired') }]} style={{ marginTop: 16 }}>
              <Input.TextArea autoSize placeholder='IF(amount > 500000, "A", "B")' />
            </Form.Item>
            <Form.Item name={['config', 'result_type']} label={t('settings.resultType')}>
              <Select
                options={[
                  { value: 'text', label: t('type.text') },
                  { value: 'decimal', label: t('type.decimal') },
                  { value: 'boolean', label: t('type.boolean') },
                ]}
              />
            </Form.Item>
          </>
        )}
      </Form>
    </Modal>
  );
}
