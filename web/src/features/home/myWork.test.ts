import { describe, expect, it } from 'vitest';
import { workspaceToday } from '../../app/workspaceDay';
import { dealsNeedingAttentionFilter, listLink, myTasksFilter, upcomingMeetingsFilter } from './MyWork';

describe('my work', () => {
  it('takes today in the workspace time zone, not the browser one', () => {
    // 2026-12-07 17:30 UTC is already the 8th in Beijing (+8 h) and still the 7th in New York.
    const now = Date.UTC(2026, 11, 7, 17, 30);
    expect(workspaceToday(480, now)).toBe('2026-12-08');
    expect(workspaceToday(-300, now)).toBe('2026-12-07');
    expect(workspaceToday(0, now)).toBe('2026-12-07');
  });

  it('asks for open tasks due by today, assigned to me', () => {
    expect(myTasksFilter(['u1'], '2026-12-07')).toEqual({
      all: [
        { field: 'assigned_to', op: 'eq', value: 'u1' },
        { field: 'status', op: 'not_in', value: ['completed', 'deferred'] },
        { field: 'due_date', op: 'lte', value: '2026-12-07' },
      ],
    });
  });

  it('asks for open deals whose close date passed or that did not change for a week', () => {
    const filter = dealsNeedingAttentionFilter(['u1'], '2026-12-07');
    expect(JSON.stringify(filter)).toContain('"op":"not_in","value":["closed_won","closed_lost"]');
    expect(JSON.stringify(filter)).toContain('{"not":{"field":"updated_at","op":"last_n_days","value":7}}');
  });

  it('links to a list whose URL carries the filter', () => {
    const link = listLink('deal', { field: 'stage', op: 'eq', value: 'proposal' });
    expect(link.startsWith('/o/deal?filter=')).toBe(true);
    expect(JSON.parse(decodeURIComponent(link.split('filter=')[1]))).toEqual({ field: 'stage', op: 'eq', value: 'proposal' });
  });

  it("a lead's team scope asks for everyone's work at once", () => {
    const team = myTasksFilter(['u1', 'u2'], '2026-12-07') as { all: unknown[] };
    expect(team.all[0]).toEqual({ field: 'assigned_to', op: 'in', value: ['u1', 'u2'] });
    const meetings = upcomingMeetingsFilter(['u1', 'u2']) as { all: unknown[] };
    expect(meetings.all[0]).toEqual({ field: 'owner_id', op: 'in', value: ['u1', 'u2'] });
  });
});
