// Server state shared across pages (TanStack Query): the session, the metadata (objects and
// fields), users, teams, and the query keys every feature uses to refresh what a change touched.
// The query options are shared with app/preload.ts, which fills the same cache entries early.
import { queryOptions, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo } from 'react';
import { api, apiPath } from './client';
import type { MeResponse, ObjectDef, SavedView, Team, User } from './types';

export const keys = {
  me: ['me'] as const,
  objects: ['objects'] as const,
  users: ['users'] as const,
  teams: ['teams'] as const,
  records: (object: string) => ['records', object] as const,
  record: (object: string, id: string) => ['record', object, id] as const,
  history: (object: string, id: string) => ['history', object, id] as const,
  views: (object: string) => ['views', object] as const,
};

export const meQuery = queryOptions({
  queryKey: keys.me,
  queryFn: () => api.get<MeResponse>('/api/v1/auth/me'),
  retry: false,
  staleTime: 60_000,
});

export const objectsQuery = queryOptions({
  queryKey: keys.objects,
  queryFn: () => api.get<ObjectDef[]>('/api/v1/objects'),
  staleTime: 30_000,
});

export const usersQuery = queryOptions({
  queryKey: keys.users,
  queryFn: () => api.get<User[]>('/api/v1/users'),
  staleTime: 60_000,
});

export const teamsQuery = queryOptions({
  queryKey: keys.teams,
  queryFn: () => api.get<Team[]>('/api/v1/teams'),
  staleTime: 60_000,
});

/** An object's saved views (list and kanban). */
export function viewsQuery(object: string) {
  return queryOptions({
    queryKey: keys.views(object),
    queryFn: () => api.get<SavedView[]>(apiPath`/api/v1/objects/${object}/views`),
    staleTime: 30_000,
  });
}

export function useMe() {
  return useQuery(meQuery);
}

export function useObjects() {
  return useQuery(objectsQuery);
}

/** One object's definition from the cached metadata. */
export function useObject(apiName: string | undefined): { object?: ObjectDef; objects?: ObjectDef[]; isLoading: boolean } {
  const { data, isLoading } = useObjects();
  return { object: data?.find((o) => o.api_name === apiName), objects: data, isLoading };
}

export function useUsers() {
  return useQuery(usersQuery);
}

export function useTeams() {
  return useQuery(teamsQuery);
}

/**
 * The signed-in user's team: everyone who shares a team with them, themselves included, and
 * whether they lead one of those teams. Empty when they are in no team with anyone else.
 */
export function teamOf(teams: Team[], userId: string): { members: string[]; leads: boolean } {
  const mine = teams.filter((t) => t.members.some((m) => m.user_id === userId));
  const members = [...new Set([userId, ...mine.flatMap((t) => t.members.map((m) => m.user_id))])];
  const leads = mine.some((t) => t.members.some((m) => m.user_id === userId && m.is_lead));
  return { members: members.length > 1 ? members : [], leads };
}

const NO_TEAM = { members: [], leads: false };

/** `teamOf` the signed-in user, the same object until the session or the teams change. */
export function useMyTeam(): { members: string[]; leads: boolean } {
  const me = useMe();
  const teams = useTeams();
  const userId = me.data?.user.id;
  return useMemo(() => (userId && teams.data ? teamOf(teams.data, userId) : NO_TEAM), [userId, teams.data]);
}

/** Refreshes everything derived from one object's records. */
export function useInvalidateRecords() {
  const client = useQueryClient();
  return (object: string) =>
    Promise.all([
      client.invalidateQueries({ queryKey: keys.records(object) }),
      client.invalidateQueries({ queryKey: ['record', object] }),
      client.invalidateQueries({ queryKey: ['history', object] }),
      client.invalidateQueries({ queryKey: ['aggregate', object] }),
      client.invalidateQueries({ queryKey: ['related'] }),
    ]);
}
