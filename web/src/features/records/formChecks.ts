// What a record form checks while the user types, before the server does on save: the format
// of emails and web addresses, a field's own pattern and length limits (as antd rules, run
// 400 ms after the last key), and, for unique fields, whether another record already has the
// value (asked of the server, debounced), so the form can link to that record. The server stays
// the authority: these only warn earlier.
import type { Rule } from 'antd/es/form';
import { api, apiPath } from '../../api/client';
import type { FieldDef, RecordList } from '../../api/types';
import type { I18n } from '../../i18n/I18nProvider';
import { fieldCodeText } from '../../i18n/codes';

export const CHECK_DELAY_MS = 400;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The rules of one field, each message in the user's language by the server's field code. */
export function fieldRules(i18n: I18n, field: FieldDef): Rule[] {
  const say = (code: string) => fieldCodeText(i18n.locale, code) ?? code;
  const rules: Rule[] = [];
  if (field.required) rules.push({ required: true, message: i18n.t('common.fieldRequired') });
  const text = (check: (v: string) => boolean, code: string): Rule => ({
    validator: (_rule, value: unknown) =>
      typeof value !== 'string' || value.trim() === '' || check(value.trim()) ? Promise.resolve() : Promise.reject(new Error(say(code))),
  });
  if (field.type === 'email') rules.push(text((v) => EMAIL.test(v), 'invalid_email'));
  if (field.type === 'url') rules.push(text((v) => /^https?:\/\/\S+\.\S+/i.test(v), 'invalid_url'));
  const c = field.config ?? {};
  if (c.pattern) {
    try {
      const pattern = new RegExp(`^(?:${c.pattern})$`, 'u');
      rules.push(text((v) => pattern.test(v), 'pattern_mismatch'));
    } catch {
      // A pattern JavaScript cannot read is left to the server.
    }
  }
  if (typeof c.max_length === 'number') rules.push(text((v) => [...v].length <= (c.max_length as number), 'too_long'));
  if (typeof c.min_length === 'number') rules.push(text((v) => [...v].length >= (c.min_length as number), 'too_short'));
  return rules;
}

/** Another live record of `object` whose `field` is `value`, if any (not `self`). */
export async function findDuplicate(
  object: string,
  field: FieldDef,
  value: unknown,
  self: string | undefined,
  signal?: AbortSignal,
): Promise<{ id: string; name: string | null } | null> {
  if (value === null || value === undefined || (typeof value === 'string' && value.trim() === '')) return null;
  const filter = JSON.stringify({ field: field.api_name, op: 'eq', value: typeof value === 'string' ? value.trim() : value });
  try {
    const page = await api.get<RecordList>(apiPath`/api/v1/objects/${object}/records`, { filter, limit: 2 }, signal);
    const other = page.data.find((r) => r.id !== self);
    return other ? { id: other.id, name: other.name ?? null } : null;
  } catch {
    // A value the server cannot compare (a malformed email) is the format rule's business.
    return null;
  }
}
