import { describe, expect, it } from 'vitest';
import type { Team } from './types';
import { teamOf } from './queries';

const team = (id: string, members: [string, boolean][]): Team =>
  ({ id, name: id, created_at: '2026-12-07T00:00:00Z', members: members.map(([user_id, is_lead]) => ({ user_id, is_lead })) }) as Team;

describe('teamOf', () => {
  const teams = [team('east', [['lead', true], ['a', false], ['b', false]]), team('key', [['b', true], ['c', false]])];

  it('is everyone who shares a team with the user, themselves first', () => {
    expect(teamOf(teams, 'a')).toEqual({ members: ['a', 'lead', 'b'], leads: false });
    expect(teamOf(teams, 'b').members.sort()).toEqual(['a', 'b', 'c', 'lead']);
    expect(teamOf(teams, 'b').leads).toBe(true);
    expect(teamOf(teams, 'lead').leads).toBe(true);
  });

  it('is empty for someone in no team, or alone in one', () => {
    expect(teamOf(teams, 'nobody')).toEqual({ members: [], leads: false });
    expect(teamOf([team('solo', [['x', true]])], 'x')).toEqual({ members: [], leads: true });
  });
});
