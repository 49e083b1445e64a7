// The widths of a list's columns: a default per field type that fits seven columns beside the
// menu at 1440 px, and the widths a user dragged, kept in the browser per object
// (`rapport.columnWidths.<object>`) like other display preferences.
import { useCallback, useState } from 'react';
import type { FieldDef, FieldType } from '../../api/types';

export const MIN_COLUMN_WIDTH = 80;
export const MAX_COLUMN_WIDTH = 1200;
export const NAME_COLUMN_WIDTH = 200;

export type ColumnWidths = Record<string, number>;

const BY_TYPE: Partial<Record<FieldType, number>> = {
  relation: 160,
  currency: 150,
  datetime: 170,
  date: 120,
  select: 130,
  user: 120,
  email: 180,
  url: 180,
  multi_select: 180,
  multi_user: 180,
  address: 200,
  attachment: 160,
};
const SYSTEM: Record<string, number> = { owner_id: 120, created_at: 170, updated_at: 170 };

/** A column's width before anyone resizes it: by field type, or by system column. */
export function defaultColumnWidth(column: string, field: FieldDef | undefined, nameField: string): number {
  if (column === nameField) return NAME_COLUMN_WIDTH;
  if (!field) return SYSTEM[column] ?? 140;
  return BY_TYPE[field.type] ?? 140;
}

export function clampWidth(width: number): number {
  return Math.min(MAX_COLUMN_WIDTH, Math.max(MIN_COLUMN_WIDTH, Math.round(width)));
}

const keyOf = (object: string) => `rapport.columnWidths.${object}`;

/** The widths kept for `object`; anything unreadable (another version, a hand edit) is ignored. */
export function storedColumnWidths(object: string, storage: Pick<Storage, 'getItem'> = localStorage): ColumnWidths {
  try {
    const parsed: unknown = JSON.parse(storage.getItem(keyOf(object)) ?? '{}');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    return Object.fromEntries(
      Object.entries(parsed)
        .filter((entry): entry is [string, number] => typeof entry[1] === 'number' && Number.isFinite(entry[1]))
        .map(([column, width]) => [column, clampWidth(width)]),
    );
  } catch {
    return {};
  }
}

export function storeColumnWidth(
  object: string,
  column: string,
  width: number,
  storage: Pick<Storage, 'getItem' | 'setItem'> = localStorage,
): void {
  try {
    storage.setItem(keyOf(object), JSON.stringify({ ...storedColumnWidths(object, storage), [column]: clampWidth(width) }));
  } catch {
    // A full or disabled storage only forgets the width.
  }
}

/** The dragged widths of `object`'s columns: `resize` while dragging, `commit` keeps the result. */
export function useColumnWidths(object: string) {
  const [widths, setWidths] = useState(() => storedColumnWidths(object));
  const resize = useCallback((column: string, width: number) => setWidths((w) => ({ ...w, [column]: clampWidth(width) })), []);
  const commit = useCallback(
    (column: string, width: number) => {
      resize(column, width);
      storeColumnWidth(object, column, width);
    },
    [object, resize],
  );
  return { widths, resize, commit };
}
