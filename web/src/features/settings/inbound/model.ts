// The inbound hooks page's model, free of React: the fields a hook can write and find records
// by, the mapping as form rows (field ← JSON pointer, optionally translated through a system of
// the semantic dictionary) and back, the form's values and the HookInput, the address senders
// post to, and a request's payload as readable text.
import type { FieldDef, ObjectDef } from '../../../api/types';
import type { Hook, HookAuth, HookInput } from './api';

/** Fields an item can set: the active ones the server does not compute. */
export function targetFields(object: ObjectDef | undefined): FieldDef[] {
  return (object?.fields ?? []).filter((f) => !f.archived_at && f.type !== 'formula' && f.type !== 'auto_number');
}

/** Fields that find the record to update: active text, email and phone fields. */
export function matchFields(object: ObjectDef | undefined): FieldDef[] {
  return (object?.fields ?? []).filter((f) => !f.archived_at && (f.type === 'text' || f.type === 'email' || f.type === 'phone'));
}

/** One row of the mapping: a record field, the JSON pointer into an item, the system translating it. */
export interface MappingRow {
  field?: string;
  pointer?: string;
  system?: string;
}

/** A source as the server keeps it (`/status | map:ERP`) as a row's pointer and system. */
export function parseSource(source: unknown): Pick<MappingRow, 'pointer' | 'system'> {
  const text = typeof source === 'string' ? source : '';
  const bar = text.indexOf('|');
  if (bar < 0) return { pointer: text.trim() };
  const filter = text.slice(bar + 1).trim();
  return { pointer: text.slice(0, bar).trim(), system: filter.startsWith('map:') ? filter.slice(4).trim() : undefined };
}

/** A row's source: the pointer, with ` | map:SYSTEM` when a system translates it. */
export function sourceOf(row: MappingRow): string {
  const pointer = row.pointer?.trim() ?? '';
  const system = row.system?.trim();
  return system ? `${pointer} | map:${system}` : pointer;
}

/** A JSON pointer (RFC 6901): empty (the whole item) or starting with `/`. */
export function validPointer(pointer: string | undefined): boolean {
  const text = pointer?.trim() ?? '';
  return text === '' || text.startsWith('/');
}

/** Whether row `index` maps a field another row maps too. */
export function fieldRepeated(rows: readonly (MappingRow | undefined)[], index: number): boolean {
  const field = rows[index]?.field;
  return Boolean(field) && rows.some((row, i) => i !== index && row?.field === field);
}

/** What the form holds. */
export interface HookForm {
  name: string;
  object?: string;
  auth: HookAuth;
  match_field?: string;
  mapping: MappingRow[];
  enabled: boolean;
}

export function hookForm(hook: Hook | null): HookForm {
  const mapping = Object.entries(hook?.mapping ?? {}).map(([field, source]) => ({ field, ...parseSource(source) }));
  return {
    name: hook?.name ?? '',
    object: hook?.object,
    auth: hook?.auth ?? 'standard_webhooks',
    match_field: hook?.match_field ?? undefined,
    mapping: mapping.length ? mapping : [{}],
    enabled: hook?.enabled ?? true,
  };
}

/** The body of a create or a change (whose `auth` stays the hook's: it does not change in place). */
export function hookInput(values: HookForm, hook: Hook | null): HookInput {
  const mapping: Record<string, string> = {};
  for (const row of values.mapping ?? []) {
    if (row?.field) mapping[row.field] = sourceOf(row);
  }
  return {
    name: values.name.trim(),
    object: values.object ?? '',
    auth: hook?.auth ?? values.auth,
    match_field: values.match_field || null,
    mapping,
    enabled: values.enabled,
  };
}

/** The address senders post to. */
export function hookUrl(origin: string, hook: Pick<Hook, 'path'>): string {
  return `${origin.replace(/\/+$/, '')}${hook.path}`;
}

/** A payload as received, indented when it is JSON; empty when none was kept. */
export function payloadText(payload: string): string {
  if (!payload.trim()) return '';
  try {
    return JSON.stringify(JSON.parse(payload), null, 2);
  } catch {
    return payload;
  }
}
