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

/**
 * What a record logged from another starts with: the link to `from` (`link` is the new record's
 * relation to it) and every other relation the two objects share — a call logged on a deal is
 * also about the deal's company and contact, so it shows on their timelines too.
 */
export function loggedFromDefaults(
  target: ObjectDef,
  link: string,
  fromObject: ObjectDef,
  from: { id: string; values: Record<string, unknown> },
): Record<string, unknown> {
  const out: Record<string, unknown> = { [link]: from.id };
  for (const field of target.fields) {
    if (field.archived_at || field.type !== 'relation' || field.api_name === link || !field.config?.target) continue;
    const carried = fromObject.fields.find(
      (f) => !f.archived_at && f.type === 'relation' && f.config?.target === field.config?.target && typeof from.values[f.api_name] === 'string',
    );
    if (carried) out[field.api_name] = from.values[carried.api_name];
  }
  return out;
}
