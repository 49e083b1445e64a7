// The dictionary page's model, free of React: which fields a mapping can be for, a mapping's
// rows checked for repeats and turned into the body the server takes, the editor prefilled for
// a value met unmapped, the page's order, and how a template names a mapping.
import type { FieldDef, ObjectDef } from '../../../api/types';
import type { Unmapped, ValueMap, ValueMapInput } from './api';

/** Objects a mapping can be made for: the active ones. */
export function activeObjects(objects: readonly ObjectDef[]): ObjectDef[] {
  return objects.filter((o) => !o.archived_at);
}

/** The fields of an object a mapping can be for: active single-select and text fields. */
export function mappableFields(object: ObjectDef | undefined): FieldDef[] {
  return (object?.fields ?? []).filter((f) => !f.archived_at && (f.type === 'select' || f.type === 'text'));
}

/** The option values and labels of a select field; none for a text field. */
export function optionsOf(field: FieldDef | undefined): { value: string; label: { en: string; zh: string } }[] {
  if (field?.type !== 'select') return [];
  return (field.config?.options ?? []).map((o) => ({ value: o.value, label: o.label }));
}

/** A system name as templates spell it: 1 to 50 characters, no |, { or }, no spaces at the ends. */
export function validSystem(system: string): boolean {
  return system.length > 0 && system.trim() === system && [...system].length <= 50 && !/[|{}]/.test(system);
}

/** A row of the editor: either side may still be empty. */
export interface EntryRow {
  crm_value?: string;
  external_code?: string;
}

/** Whether row `index`'s `column` repeats a value of another row (a mapping is one-to-one). */
export function isRepeated(rows: readonly (EntryRow | undefined)[], index: number, column: keyof EntryRow): boolean {
  const value = rows[index]?.[column]?.trim();
  if (!value) return false;
  return rows.some((row, i) => i !== index && row?.[column]?.trim() === value);
}

/** What the editor holds. */
export interface MapForm {
  system: string;
  object?: string;
  field?: string;
  description: string;
  entries: EntryRow[];
}

/** The body of a create or a change: texts trimmed, rows left wholly empty dropped. */
export function valueMapInput(values: MapForm): ValueMapInput {
  return {
    system: values.system.trim(),
    object: values.object ?? '',
    field: values.field ?? '',
    description: values.description?.trim() ?? '',
    entries: (values.entries ?? [])
      .map((row) => ({ crm_value: row?.crm_value?.trim() ?? '', external_code: row?.external_code?.trim() ?? '' }))
      .filter((row) => row.crm_value || row.external_code),
  };
}

/** The editor's values for a mapping (a new one when none), with one more row for `missed`. */
export function mapForm(map: ValueMap | null, missed?: Pick<Unmapped, 'direction' | 'value'>): MapForm {
  const entries: EntryRow[] = (map?.entries ?? []).map((e) => ({ ...e }));
  if (missed) {
    // Outbound, the value missed is a CRM value; inbound, it is the system's code.
    entries.push(missed.direction === 'outbound' ? { crm_value: missed.value } : { external_code: missed.value });
  }
  if (entries.length === 0) entries.push({});
  return { system: map?.system ?? '', object: map?.object, field: map?.field, description: map?.description ?? '', entries };
}

/** The mappings in the order the page lists them: by system, then object and field. */
export function sortMaps(maps: readonly ValueMap[]): ValueMap[] {
  return [...maps].sort((a, b) => a.system.localeCompare(b.system) || a.object.localeCompare(b.object) || a.field.localeCompare(b.field));
}

/** How a connector template names this mapping: `{{record.order_status | map:ERP}}`. */
export function templateUsage(map: Pick<ValueMap, 'system' | 'field'>): string {
  return `{{record.${map.field} | map:${map.system}}}`;
}
