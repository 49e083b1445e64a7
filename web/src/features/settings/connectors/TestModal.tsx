// "Send test": a message sent at once through a connector, with the inputs its channel takes
// (email: recipients, subject, text; SMS: numbers, template, parameters; chat: text, markdown,
// mobiles to @; HTTP: text and parameters), and how it went — state, error, the provider's answer.
import { Alert, Button, Form, Input, Modal, Switch } from 'antd';
import { SendOutlined } from '@ant-design/icons';
import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api, apiPath } from '../../../api/client';
import { useI18n, type MessageKey } from '../../../i18n/I18nProvider';
import { errorMessage } from '../../../app/PageState';
import { connectorKeys, type Connector, type KindInfo, type SendLog } from './api';
import { jsonObject, splitList, testInputs, testMessage, type TestForm } from './model';
import { SendDetail } from './SendDetail';

const TO_LABEL: Record<string, MessageKey> = { email: 'connectors.to.email', sms: 'connectors.to.sms', chat: 'connectors.to.chat' };
const TO_EXAMPLE: Record<string, string> = { email: 'name@example.cn', sms: '+8613800138000', chat: '13800138000' };

export function TestModal({ connector, kind, onClose }: { connector: Connector; kind: KindInfo; onClose: () => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const client = useQueryClient();
  const [form] = Form.useForm<TestForm>();
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<SendLog | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const inputs = testInputs(kind);

  const send = async () => {
    // (An invalid form shows its errors on the fields.)
    const values = await form.validateFields().catch(() => null);
    if (!values) return;
    setBusy(true);
    setResult(null);
    setFailure(null);
    try {
      setResult(await api.post<SendLog>(apiPath`/api/v1/connectors/${connector.id}/test`, testMessage(kind, values)));
      await Promise.all([
        client.invalidateQueries({ queryKey: connectorKeys.all, exact: true }),
        client.invalidateQueries({ queryKey: connectorKeys.messages(connector.id) }),
      ]);
    } catch (error) {
      setFailure(errorMessage(i18n, error));
    } finally {
      setBusy(false);
    }
  };

  const jsonRule = { validator: async (_: unknown, value: unknown) => (jsonObject(value) === null ? Promise.reject(new Error(t('connectors.jsonInvalid'))) : undefined) };

  return (
    <Modal
      open
      onCancel={onClose}
      title={t('connectors.testOf', { name: connector.name })}
      width={640}
      destroyOnHidden
      footer={[
        <Button key="close" onClick={onClose}>
          {t('common.close')}
        </Button>,
        <Button key="send" type="primary" icon={<SendOutlined />} loading={busy} onClick={send} data-testid="test-send">
          {t('connectors.send')}
        </Button>,
      ]}
    >
      <Form form={form} layout="vertical" data-testid="test-form" onValuesChange={() => setFailure(null)}>
        {inputs.to && (
          <Form.Item
            name="to"
            label={t(TO_LABEL[kind.channel])}
            extra={t('connectors.toHint')}
            required={inputs.to === 'required'}
            rules={
              inputs.to === 'required'
                ? [{ validator: async (_, value: string | undefined) => (splitList(value).length ? undefined : Promise.reject(new Error(t('connectors.toNeeded')))) }]
                : []
            }
          >
            <Input.TextArea autoSize={{ minRows: 1, maxRows: 4 }} placeholder={TO_EXAMPLE[kind.channel]} spellCheck={false} />
          </Form.Item>
        )}
        {inputs.subject && (
          <Form.Item name="subject" label={t('connectors.subject')} rules={[{ required: true, whitespace: true, message: t('connectors.subjectNeeded') }]}>
            <Input />
          </Form.Item>
        )}
        {inputs.template && (
          <Form.Item
            name="template"
            label={t('connectors.template')}
            extra={t('connectors.templateHint')}
            rules={[{ required: true, whitespace: true, message: t('connectors.templateNeeded') }]}
          >
            <Input placeholder="SMS_154950909" spellCheck={false} />
          </Form.Item>
        )}
        {inputs.text && (
          <Form.Item
            name="text"
            label={t('connectors.text')}
            extra={t('connectors.textHint')}
            rules={inputs.text === 'required' ? [{ required: true, whitespace: true, message: t('connectors.textNeeded') }] : []}
          >
            <Input.TextArea autoSize={{ minRows: 3, maxRows: 10 }} />
          </Form.Item>
        )}
        {inputs.params && (
          <Form.Item name="params" label={t('connectors.params')} extra={t('connectors.paramsHint')} rules={[jsonRule]}>
            <Input.TextArea autoSize={{ minRows: 2, maxRows: 8 }} placeholder='{"code": "4821"}' spellCheck={false} style={{ fontFamily: 'monospace' }} />
          </Form.Item>
        )}
        {inputs.markdown && (
          <Form.Item name="markdown" label={t('connectors.markdown')} valuePropName="checked">
            <Switch />
          </Form.Item>
        )}
        {inputs.transactional && (
          <Form.Item name="transactional" label={t('connectors.transactional')} valuePropName="checked" extra={t('connectors.transactionalHint')}>
            <Switch />
          </Form.Item>
        )}
      </Form>
      {failure && <Alert type="error" showIcon title={failure} data-testid="test-error" />}
      {result && (
        <div data-testid="test-result">
          <SendDetail log={result} />
        </div>
      )}
    </Modal>
  );
}
