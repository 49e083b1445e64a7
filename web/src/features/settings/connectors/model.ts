// The connectors page's model, free of React: the labels of kinds, fields and options (the
// server's own key for one this build does not know), the form's values from a connector and
// the ConnectorInput from the form, the test message each channel takes, and the form field a
// refusal from the server is about.
import { en, type MessageKey } from '../../../i18n/messages';
import type { Channel, Connector, ConnectorInput, ConnectorKind, FieldInfo, KindInfo, Message } from './api';

type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

/** The channels, in the order the kind select groups them. */
export const CHANNELS: Channel[] = ['email', 'sms', 'chat', 'http'];

function known(key: string): key is MessageKey {
  return Object.hasOwn(en, key);
}

function labelOr(t: Translate, key: string, fallback: string): string {
  return known(key) ? t(key) : fallback;
}

export const kindLabel = (t: Translate, kind: string) => labelOr(t, `connectors.kind.${kind}`, kind);
export const channelLabel = (t: Translate, channel: string) => labelOr(t, `connectors.channel.${channel}`, channel);
export const fieldLabel = (t: Translate, key: string) => labelOr(t, `connectors.field.${key}`, key);
export const optionLabel = (t: Translate, field: string, option: string) => labelOr(t, `connectors.option.${field}.${option}`, option);

/** A short help text for the fields that need one. */
export function fieldHelp(t: Translate, key: string): string | undefined {
  const help = `connectors.help.${key}`;
  return known(help) ? t(help) : undefined;
}

/** Whether the form must have a value: required with no default, a credential only when none is stored. */
export function mustFill(field: FieldInfo, secretsSet: readonly string[]): boolean {
  if (!field.required || field.default != null) return false;
  return !(field.secret && secretsSet.includes(field.key));
}

/** What the form holds: JSON settings as text, the port as a number, credentials as typed. */
export interface ConnectorForm {
  kind?: ConnectorKind;
  name: string;
  description: string;
  enabled: boolean;
  settings: Record<string, string | number | null | undefined>;
  secrets: Record<string, string | undefined>;
}

export function formValues(connector: Connector | null, kind: KindInfo | undefined): ConnectorForm {
  const settings: ConnectorForm['settings'] = {};
  for (const field of kind?.fields ?? []) {
    const value = connector?.settings[field.key];
    if (field.secret || value === undefined || value === null) continue;
    if (field.input === 'json') settings[field.key] = JSON.stringify(value, null, 2);
    else if (field.input === 'number') settings[field.key] = Number(value);
    else settings[field.key] = String(value);
  }
  return {
    kind: connector?.kind,
    name: connector?.name ?? '',
    description: connector?.description ?? '',
    enabled: connector?.enabled ?? true,
    settings,
    secrets: {},
  };
}

/** A JSON object from text: undefined when the text is empty, null when it is not an object. */
export function jsonObject(text: unknown): Record<string, unknown> | null | undefined {
  if (typeof text !== 'string' || !text.trim()) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * The body of a create or a change. Empty settings are left out (the kind's default applies);
 * a credential left empty keeps its stored value, one in `removed` is removed (`null`).
 */
export function connectorInput(kind: KindInfo, values: ConnectorForm, removed: ReadonlySet<string>): ConnectorInput {
  const settings: Record<string, unknown> = {};
  const secrets: Record<string, unknown> = {};
  for (const field of kind.fields) {
    if (field.secret) {
      const typed = values.secrets?.[field.key]?.trim();
      if (typed) secrets[field.key] = typed;
      else if (removed.has(field.key)) secrets[field.key] = null;
      continue;
    }
    const raw = values.settings?.[field.key];
    if (raw === undefined || raw === null || raw === '') continue;
    if (field.input === 'json') {
      const object = jsonObject(raw);
      if (object) settings[field.key] = object;
    } else if (field.input === 'number') {
      const n = Number(raw);
      if (Number.isFinite(n)) settings[field.key] = n;
    } else if (field.input === 'textarea') {
      if (String(raw).trim()) settings[field.key] = String(raw);
    } else if (String(raw).trim()) {
      settings[field.key] = String(raw).trim();
    }
  }
  return {
    kind: kind.kind,
    name: values.name.trim(),
    description: values.description?.trim() ?? '',
    enabled: values.enabled,
    settings,
    secrets,
  };
}

/** The inputs of the "send test" form for a kind: which show, and which must be filled. */
export interface TestInputs {
  to: 'required' | 'optional' | null;
  subject: boolean;
  text: 'required' | 'optional' | null;
  markdown: boolean;
  template: boolean;
  params: boolean;
  transactional: boolean;
}

export function testInputs(kind: Pick<KindInfo, 'kind' | 'channel'>): TestInputs {
  const none: TestInputs = { to: null, subject: false, text: null, markdown: false, template: false, params: false, transactional: false };
  switch (kind.channel) {
    case 'email':
      return { ...none, to: 'required', subject: true, text: 'optional', transactional: true };
    case 'sms':
      // An HTTP gateway sends the text ({{text}} in its body template); the providers a template.
      return kind.kind === 'sms_http'
        ? { ...none, to: 'required', text: 'optional', params: true }
        : { ...none, to: 'required', template: true, params: true };
    case 'chat':
      return { ...none, text: 'required', markdown: true, to: 'optional' };
    default:
      return { ...none, text: 'optional', params: true };
  }
}

export interface TestForm {
  to?: string;
  subject?: string;
  text?: string;
  markdown?: boolean;
  template?: string;
  params?: string;
  transactional?: boolean;
}

/** Addresses or numbers typed in one box, separated by commas, semicolons, spaces or lines. */
export function splitList(text: string | undefined): string[] {
  return (text ?? '').split(/[\s,;，；、]+/).filter(Boolean);
}

export function testMessage(kind: Pick<KindInfo, 'kind' | 'channel'>, values: TestForm): Message {
  const inputs = testInputs(kind);
  const message: Message = {};
  if (inputs.to) message.to = splitList(values.to);
  if (inputs.subject) message.subject = values.subject ?? '';
  if (inputs.text) message.text = values.text ?? '';
  if (inputs.markdown) message.markdown = Boolean(values.markdown);
  if (inputs.template) message.template = values.template?.trim() ?? '';
  if (inputs.params) {
    const params = jsonObject(values.params);
    if (params) message.params = params;
  }
  if (inputs.transactional) message.transactional = Boolean(values.transactional);
  return message;
}

/** A field of the connector form that an error can be shown on. */
export type FormPath = ['name'] | ['description'] | ['settings', string] | ['secrets', string];

/**
 * The form field a refused connector is about, from the server's (English) detail: "url is not
 * an http(s) URL", "wecom_robot needs key", "another connector has this name"… An address the
 * server will not call names no field: the one address filled in, when there is one.
 */
export function fieldOfError(kind: KindInfo, error: { code: string; message: string }, values: ConnectorForm): FormPath | null {
  const { code, message } = error;
  if (code === 'url_not_allowed') {
    const filled = kind.fields.filter((f) => f.input === 'url' && String(values.settings?.[f.key] ?? '').trim());
    return filled.length === 1 ? ['settings', filled[0].key] : null;
  }
  if (code !== 'invalid_connector' && code !== 'invalid_url') return null;
  if (/\bname\b/.test(message) && /connector/.test(message)) return ['name'];
  if (message.startsWith('a description')) return ['description'];
  const field = kind.fields.find((f) => message.startsWith(`${f.key} `) || message.endsWith(` needs ${f.key}`));
  if (!field) return null;
  return field.secret ? ['secrets', field.key] : ['settings', field.key];
}
