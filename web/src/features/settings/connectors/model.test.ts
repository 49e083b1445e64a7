import { describe, expect, it } from 'vitest';
import { en, zh, type MessageKey } from '../../../i18n/messages';
import type { Connector, KindInfo } from './api';
import { connectorInput, fieldLabel, fieldOfError, formValues, jsonObject, kindLabel, mustFill, splitList, testInputs, testMessage } from './model';

const field = (key: string, more: Partial<KindInfo['fields'][number]> = {}): KindInfo['fields'][number] => ({
  key,
  secret: false,
  required: false,
  input: 'text',
  options: [],
  default: null,
  ...more,
});

const HTTP: KindInfo = {
  kind: 'http',
  channel: 'http',
  fields: [
    field('method', { input: 'select', options: ['POST', 'GET'], required: true, default: 'POST' }),
    field('url_template', { required: true }),
    field('headers', { input: 'json' }),
    field('token', { secret: true }),
    field('hmac_secret', { secret: true }),
    field('body_template', { input: 'textarea' }),
  ],
};

const SMTP: KindInfo = {
  kind: 'smtp',
  channel: 'email',
  fields: [field('host', { required: true }), field('port', { input: 'number', required: true, default: '587' }), field('password', { secret: true }), field('public_url', { input: 'url' })],
};

const WECOM: KindInfo = { kind: 'wecom_robot', channel: 'chat', fields: [field('url', { input: 'url', required: true, default: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send' }), field('key', { secret: true, required: true })] };

const stored = (kind: KindInfo, settings: Record<string, unknown>, secrets_set: string[] = []): Connector => ({
  id: 'c1',
  kind: kind.kind,
  name: '销售群',
  description: '',
  settings,
  secrets_set,
  enabled: true,
  created_at: '2025-01-01T00:00:00Z',
  updated_at: '2025-01-01T00:00:00Z',
});

describe('labels', () => {
  it('names every kind and field of the catalogue in both languages, and falls back to the key', () => {
    const keys = ['host', 'port', 'security', 'username', 'password', 'from_address', 'from_name', 'reply_to', 'public_url', 'url', 'headers', 'body_template', 'token', 'endpoint', 'access_key_id', 'access_key_secret', 'sign_name', 'region', 'secret_id', 'secret_key', 'sdk_app_id', 'key', 'access_token', 'signing_secret', 'hook_id', 'method', 'url_template', 'auth', 'hmac_secret', 'hmac_header', 'response_mapping', 'precheck_url_template', 'precheck_method', 'precheck_body_template', 'precheck_pass'];
    const kinds = ['smtp', 'sms_http', 'sms_aliyun', 'sms_tencent', 'wecom_robot', 'dingtalk_robot', 'feishu_bot', 'http'];
    for (const key of [...keys.map((k) => `connectors.field.${k}`), ...kinds.map((k) => `connectors.kind.${k}`)]) {
      expect(en[key as MessageKey], key).toBeTruthy();
      expect(zh[key as MessageKey], key).toBeTruthy();
    }
    const t = (key: MessageKey) => zh[key];
    expect(kindLabel(t, 'wecom_robot')).toBe('企业微信群机器人');
    expect(kindLabel(t, 'carrier_pigeon')).toBe('carrier_pigeon');
    expect(fieldLabel(t, 'toString')).toBe('toString');
  });
});

describe('the connector form', () => {
  it('shows stored JSON settings as text and the port as a number', () => {
    const values = formValues(stored(HTTP, { headers: { 'X-Api-Key': 'k' }, url_template: 'https://erp.example.cn/orders' }), HTTP);
    expect(values.settings).toEqual({ headers: '{\n  "X-Api-Key": "k"\n}', url_template: 'https://erp.example.cn/orders' });
    expect(formValues(stored(SMTP, { host: 'smtp.example.cn', port: 465 }), SMTP).settings.port).toBe(465);
    expect(formValues(null, undefined)).toEqual({ kind: undefined, name: '', description: '', enabled: true, settings: {}, secrets: {} });
  });

  it('sends JSON as objects, the port as a number, leaves empty settings and untouched credentials out', () => {
    const body = connectorInput(
      HTTP,
      {
        kind: 'http',
        name: '  ERP  ',
        description: '',
        enabled: true,
        settings: { method: '', url_template: ' https://erp.example.cn/{{record.id}} ', headers: '{"X-Api-Key": "k"}', body_template: '{"a": 1}\n' },
        secrets: { token: '', hmac_secret: undefined },
      },
      new Set(['hmac_secret']),
    );
    expect(body).toEqual({
      kind: 'http',
      name: 'ERP',
      description: '',
      enabled: true,
      settings: { url_template: 'https://erp.example.cn/{{record.id}}', headers: { 'X-Api-Key': 'k' }, body_template: '{"a": 1}\n' },
      secrets: { hmac_secret: null },
    });
    const smtp = connectorInput(SMTP, { name: 'Mail', description: '', enabled: false, settings: { host: 'smtp.example.cn', port: 465 }, secrets: { password: ' pw ' } }, new Set());
    expect(smtp.settings).toEqual({ host: 'smtp.example.cn', port: 465 });
    expect(smtp.secrets).toEqual({ password: 'pw' });
  });

  it('parses JSON objects only', () => {
    expect(jsonObject('')).toBeUndefined();
    expect(jsonObject('{"a": 1}')).toEqual({ a: 1 });
    expect(jsonObject('[1]')).toBeNull();
    expect(jsonObject('{a: 1}')).toBeNull();
    expect(jsonObject('null')).toBeNull();
  });

  it('asks for a required credential only when none is stored, and never for a setting with a default', () => {
    expect(mustFill(WECOM.fields[1], [])).toBe(true);
    expect(mustFill(WECOM.fields[1], ['key'])).toBe(false);
    expect(mustFill(WECOM.fields[0], [])).toBe(false);
  });

  it('puts a refusal on the field it names', () => {
    const values = { name: 'x', description: '', enabled: true, settings: { url: 'http://10.1.2.3/' }, secrets: {} };
    expect(fieldOfError(WECOM, { code: 'invalid_url', message: 'url is not an http(s) URL' }, values)).toEqual(['settings', 'url']);
    expect(fieldOfError(WECOM, { code: 'invalid_connector', message: 'wecom_robot needs key' }, values)).toEqual(['secrets', 'key']);
    expect(fieldOfError(WECOM, { code: 'invalid_connector', message: 'another connector has this name' }, values)).toEqual(['name']);
    expect(fieldOfError(WECOM, { code: 'url_not_allowed', message: 'private address' }, values)).toEqual(['settings', 'url']);
    expect(fieldOfError(WECOM, { code: 'url_not_allowed', message: 'private address' }, { ...values, settings: {} })).toBeNull();
    expect(fieldOfError(HTTP, { code: 'invalid_connector', message: 'a workspace has at most 50 connectors' }, values)).toBeNull();
    expect(fieldOfError(HTTP, { code: 'invalid_connector', message: 'url_template is a text of at most 1024 bytes' }, values)).toEqual(['settings', 'url_template']);
  });
});

describe('the test message', () => {
  it('takes the inputs of its channel', () => {
    expect(testMessage({ kind: 'smtp', channel: 'email' }, { to: 'a@example.cn, b@example.cn', subject: 'Hi', text: 'x', transactional: true })).toEqual({
      to: ['a@example.cn', 'b@example.cn'],
      subject: 'Hi',
      text: 'x',
      transactional: true,
    });
    expect(testMessage({ kind: 'sms_aliyun', channel: 'sms' }, { to: '+8613800138000\n13900139000', template: ' SMS_1 ', params: '{"code": "4821"}', text: 'ignored' })).toEqual({
      to: ['+8613800138000', '13900139000'],
      template: 'SMS_1',
      params: { code: '4821' },
    });
    expect(testInputs({ kind: 'sms_http', channel: 'sms' }).template).toBe(false);
    expect(testMessage({ kind: 'wecom_robot', channel: 'chat' }, { text: '<script>x</script>' })).toEqual({ to: [], text: '<script>x</script>', markdown: false });
    expect(testMessage({ kind: 'http', channel: 'http' }, { text: 't', params: '' })).toEqual({ text: 't' });
  });

  it('splits recipients on commas, semicolons, spaces and lines, Chinese ones too', () => {
    expect(splitList(' a@x.cn，b@x.cn; c@x.cn\nd@x.cn 、e@x.cn ')).toEqual(['a@x.cn', 'b@x.cn', 'c@x.cn', 'd@x.cn', 'e@x.cn']);
    expect(splitList(undefined)).toEqual([]);
  });
});
