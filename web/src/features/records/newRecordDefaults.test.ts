import { describe, expect, it } from 'vitest';
import type { ObjectDef } from '../../api/types';
import { loggedFromDefaults, newRecordDefaults, nextDay } from './newRecordDefaults';

const task = {
  api_name: 'task',
  fields: [
    { api_name: 'title', type: 'text' },
    { api_name: 'due_date', type: 'date' },
    { api_name: 'status', type: 'select', config: { options: [{ value: 'not_started' }, { value: 'completed' }] } },
    { api_name: 'assigned_to', type: 'user' },
  ],
} as unknown as ObjectDef;

describe('new record defaults', () => {
  it('gives a new task to its creator, open, due tomorrow', () => {
    expect(newRecordDefaults(task, 'u1', '2026-12-07')).toEqual({
      assigned_to: 'u1',
      status: 'not_started',
      due_date: '2026-12-08',
    });
  });

  it('leaves objects without such fields alone', () => {
    const company = { api_name: 'company', fields: [{ api_name: 'name', type: 'text' }] } as unknown as ObjectDef;
    expect(newRecordDefaults(company, 'u1', '2026-12-07')).toEqual({});
  });

  it('skips archived fields and an unknown user', () => {
    const archived = { ...task, fields: task.fields.map((f) => ({ ...f, archived_at: '2026-01-01T00:00:00Z' })) } as ObjectDef;
    expect(newRecordDefaults(archived, 'u1', '2026-12-07')).toEqual({});
    expect(newRecordDefaults(task, undefined, '2026-12-07')).not.toHaveProperty('assigned_to');
  });

  it('counts days across month and year ends', () => {
    expect(nextDay('2026-12-31')).toBe('2027-01-01');
    expect(nextDay('2028-02-28')).toBe('2028-02-29');
  });
});

const rel = (api_name: string, target: string, archived_at?: string) => ({ api_name, type: 'relation', config: { target }, archived_at });
const activity = { api_name: 'activity', fields: [rel('company', 'company'), rel('contact', 'contact'), rel('deal', 'deal')] } as unknown as ObjectDef;
const deal = { api_name: 'deal', fields: [rel('company', 'company'), rel('contact', 'contact')] } as unknown as ObjectDef;

describe('logged from another record', () => {
  it("carries a deal's company and contact to a call logged on it", () => {
    expect(loggedFromDefaults(activity, 'deal', deal, { id: 'd1', values: { company: 'c1', contact: 'p1' } })).toEqual({
      deal: 'd1',
      company: 'c1',
      contact: 'p1',
    });
  });

  it('carries only relations that are set and not archived', () => {
    const archived = { ...deal, fields: [rel('company', 'company', '2026-01-01T00:00:00Z'), rel('contact', 'contact')] } as unknown as ObjectDef;
    expect(loggedFromDefaults(activity, 'deal', archived, { id: 'd1', values: { company: 'c1', contact: null } })).toEqual({ deal: 'd1' });
  });

  it('never overwrites the link itself', () => {
    const company = { api_name: 'company', fields: [rel('parent', 'company')] } as unknown as ObjectDef;
    expect(loggedFromDefaults(activity, 'company', company, { id: 'c2', values: { parent: 'c1' } })).toEqual({ company: 'c2' });
  });
});
