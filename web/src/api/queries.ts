// Server state shared across pages (TanStack Query): the session, the metadata (objects and
// fields), users, and the query keys every feature uses to refresh what a change touched.
// The query options are shared with app/preload.ts, which fills the same cache entries early.
import { queryOptions, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, apiPath } from './client';
import type { MeResponse, ObjectDef, SavedView, User } from './types';

export const keys = {
  me: ['me'] as const,
  objects: ['objects'] as const,
  users: ['users'] as const,
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
