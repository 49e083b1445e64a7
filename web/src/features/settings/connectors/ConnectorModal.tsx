// Creating or changing a connector: its type (fixed once created), name, description and
// switch, then one input per setting of the type's field catalogue — credentials as password
// inputs that keep their stored value when left empty, JSON settings as text parsed before
// sending — and the server's refusals shown on the field they concern.
import { Alert, App, Button, Divider, Form, Input, InputNumber, Modal, Select, Switch, type FormRule } from 'antd';
import { Fragment, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api, apiPath, ApiError } from '../../../api/client';
import { useI18n } from '../../../i18n/I18nProvider';
import { errorMessage } from '../../../app/PageState';
import { connectorKeys, type Connector, type FieldInfo, type KindInfo } from './api';
import { CHANNELS, channelLabel, connectorInput, fieldHelp, fieldLabel, fieldOfError, formValues, jsonObject, kindLabel, mustFill, optionLabel, type ConnectorForm } from './model';

export function ConnectorModal({ connector, kinds, onClose }: { connector: Connector | null; kinds: KindInfo[]; onClose: () => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const { message } = App.useApp();
  const client = useQueryClient();
  const [form] = Form.useForm<ConnectorForm>();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const [removed, setRemoved] = useState<ReadonlySet<string>>(new Set());
  const chosen = Form.useWatch('kind', form) ?? connector?.kind;
  const kind = kinds.find((k) => k.kind === chosen);
  const secretsSet = connector?.secrets_set ?? [];

  const submit = async () => {
    setFailure(null);
    // (An invalid form shows its errors on the fields.)
    const values = await form.validateFields().catch(() => null);
    if (!values || !kind) return;
    const body = connectorInput(kind, values, removed);
    setBusy(true);
    try {
      if (connector) await api.put<Connector>(apiPath`/api/v1/connectors/${connector.id}`, body);
      else await api.post<Connector>('/api/v1/connectors', body);
      await client.invalidateQueries({ queryKey: connectorKeys.all });
      message.success(t('common.saved'));
      onClose();
    } catch (error) {
      const field = error instanceof ApiError ? fieldOfError(kind, error, values) : null;
      if (field) form.setFields([{ name: field, errors: [errorMessage(i18n, error)] }]);
      else setFailure(errorMessage(i18n, error));
    } finally {
      setBusy(false);
    }
  };

  const toggleRemoved = (key: string) =>
    setRemoved((current) => {
      const next = new Set(current);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });

  return (
    <Modal
      open
      onCancel={onClose}
      onOk={submit}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      confirmLoading={busy}
      title={connector ? t('connectors.edit') : t('connectors.new')}
      width={640}
      destroyOnHidden
    >
      <Form form={form} layout="vertical" data-testid="connector-form" preserve={false} initialValues={formValues(connector, kind)} onValuesChange={() => setFailure(null)}>
        <Form.Item
          name="kind"
          label={t('connectors.kind')}
          rules={[{ required: true, message: t('connectors.kindNeeded') }]}
          extra={connector ? t('connectors.kindFixed') : undefined}
        >
          <Select
            disabled={Boolean(connector)}
            aria-label={t('connectors.kind')}
            data-testid="connector-kind"
            options={CHANNELS.map((channel) => ({
              label: channelLabel(t, channel),
              title: channelLabel(t, channel),
              options: kinds.filter((k) => k.channel === channel).map((k) => ({ value: k.kind, label: kindLabel(t, k.kind) })),
            })).filter((group) => group.options.length > 0)}
          />
        </Form.Item>
        <Form.Item name="name" label={t('connectors.name')} rules={[{ required: true, whitespace: true, message: t('connectors.nameNeeded') }]}>
          <Input maxLength={100} />
        </Form.Item>
        <Form.Item name="description" label={t('connectors.description')}>
          <Input maxLength={500} />
        </Form.Item>
        <Form.Item name="enabled" label={t('connectors.enabled')} valuePropName="checked">
          <Switch />
        </Form.Item>
        {kind && (
          // Keyed by the type: choosing another one starts its settings afresh.
          <Fragment key={kind.kind}>
            <Divider titlePlacement="start" plain>
              {t('connectors.settings')}
            </Divider>
            {kind.fields.map((field) =>
              field.secret ? (
                <SecretItem key={field.key} field={field} saved={secretsSet.includes(field.key)} removed={removed.has(field.key)} onToggle={() => toggleRemoved(field.key)} />
              ) : (
                <SettingItem key={field.key} field={field} />
              ),
            )}
          </Fragment>
        )}
        {failure && <Alert type="error" showIcon title={failure} data-testid="connector-error" />}
      </Form>
    </Modal>
  );
}

function SettingItem({ field }: { field: FieldInfo }) {
  const { t } = useI18n();
  const label = fieldLabel(t, field.key);
  const placeholder = field.default ?? undefined;
  const needed = { required: mustFill(field, []), message: t('connectors.fieldNeeded', { field: label }) };
  const rules: FormRule[] =
    field.input === 'number'
      ? [needed]
      : field.input === 'json'
        ? [needed, { validator: async (_, value) => (jsonObject(value) === null ? Promise.reject(new Error(t('connectors.jsonInvalid'))) : undefined) }]
        : [{ ...needed, whitespace: true }];
  const input =
    field.input === 'number' ? (
      <InputNumber min={1} max={65535} precision={0} placeholder={placeholder} style={{ width: 160 }} />
    ) : field.input === 'select' ? (
      <Select allowClear placeholder={placeholder ? optionLabel(t, field.key, placeholder) : undefined} options={field.options.map((o) => ({ value: o, label: optionLabel(t, field.key, o) }))} />
    ) : field.input === 'json' || field.input === 'textarea' ? (
      <Input.TextArea autoSize={{ minRows: 2, maxRows: 10 }} placeholder={placeholder} spellCheck={false} style={{ fontFamily: 'monospace' }} />
    ) : (
      <Input placeholder={placeholder} inputMode={field.input === 'url' ? 'url' : undefined} spellCheck={false} />
    );
  return (
    <Form.Item name={['settings', field.key]} label={label} extra={fieldHelp(t, field.key)} rules={rules}>
      {input}
    </Form.Item>
  );
}

function SecretItem({ field, saved, removed, onToggle }: { field: FieldInfo; saved: boolean; removed: boolean; onToggle: () => void }) {
  const { t } = useI18n();
  const label = fieldLabel(t, field.key);
  const help = fieldHelp(t, field.key);
  const placeholder = removed ? t('connectors.secretRemoved') : saved ? t('connectors.secretSaved') : undefined;
  // A stored credential that is not required can be removed; a required one only replaced.
  const removable = saved && !field.required;
  return (
    <Form.Item
      name={['secrets', field.key]}
      label={label}
      required={mustFill(field, [])}
      rules={[{ required: mustFill(field, saved ? [field.key] : []), whitespace: true, message: t('connectors.fieldNeeded', { field: label }) }]}
      extra={
        help || removable ? (
          <>
            {help}{' '}
            {removable && (
              <Button type="link" size="small" style={{ padding: 0, height: 'auto' }} onClick={onToggle} data-testid={`remove-secret-${field.key}`}>
                {removed ? t('connectors.secretKeep') : t('connectors.secretRemove')}
              </Button>
            )}
          </>
        ) : undefined
      }
    >
      <Input.Password placeholder={placeholder} autoComplete="new-password" visibilityToggle={false} />
    </Form.Item>
  );
}
