// What a new record's form starts with, so a person creates a task without filling the obvious:
// the person it is for is whoever creates it (a `user` field named `assigned_to`), a status
// starts at its first option (`status` picklists list the opening state first), and a due date
// is tomorrow in the workspace's time zone. Values the caller passes (a task logged from a deal)
// win over these. Pure, so it is unit-tested.
import type { ObjectDef } from '../../api/types';

/** The calendar day after `today` (`YYYY-MM-DD`). */
export function nextDay(today: string): string {
  const date = new Date(`${today}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}

export function newRecordDefaults(object: ObjectDef, userId: string | undefined, today: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of object.fields) {
    if (field.archived_at) continue;
    if (field.api_name === 'assigned_to' && field.type === 'user' && userId) out[field.api_name] = userId;
    if (field.api_name === 'status' && field.type === 'select') {
      const first = field.config?.options?.[0]?.value;
      if (first) out[field.api_name] = first;
    }
    if (field.api_name === 'due_date' && field.type === 'date') out[field.api_name] = nextDay(today);
  }
  return out;
}
