// The job queue's server state (docs/API.md, "Jobs"): names for the generated types, query keys,
// the queries, and the retry / cancel / discard mutations, each refreshing every job query.
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../api/client';
import type { components } from '../../../api/schema';

type Schemas = components['schemas'];

export type Job = Schemas['Job'];
export type JobDetail = Schemas['JobDetail'];
export type JobPage = Schemas['JobPage'];
export type JobState = Schemas['JobState'];
export type Attempt = Schemas['Attempt'];
export type QueueCounts = Schemas['QueueCounts'];

export interface JobFilter {
  queue?: string;
  state?: JobState;
}

export const jobKeys = {
  all: ['jobs'] as const,
  queues: ['jobs', 'queues'] as const,
  list: (filter: JobFilter) => ['jobs', 'list', filter.queue ?? '', filter.state ?? ''] as const,
  one: (id: string) => ['jobs', 'one', id] as const,
};

export function useQueues() {
  return useQuery({ queryKey: jobKeys.queues, queryFn: () => api.get<QueueCounts[]>('/api/v1/jobs/queues') });
}

/** The jobs, newest first, a page of 50 at a time (keyset: `next` is the next page's `before`). */
export function useJobs(filter: JobFilter) {
  return useInfiniteQuery({
    queryKey: jobKeys.list(filter),
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      api.get<JobPage>('/api/v1/jobs', { queue: filter.queue, state: filter.state, before: pageParam, limit: 50 }),
    getNextPageParam: (page) => page.next ?? undefined,
  });
}

export function useJob(id: string | null) {
  return useQuery({
    queryKey: jobKeys.one(id ?? ''),
    queryFn: () => api.get<JobDetail>(`/api/v1/jobs/${encodeURIComponent(id ?? '')}`),
    enabled: id !== null,
  });
}

/** Retry, cancel or discard a job; every job query is refreshed afterwards. */
export function useJobAction(action: 'retry' | 'cancel' | 'discard') {
  const client = useQueryClient();
  return useMutation({
    /** The job as it is now; undefined once discarded. */
    mutationFn: async (id: string): Promise<JobDetail | undefined> => {
      const path = `/api/v1/jobs/${encodeURIComponent(id)}`;
      if (action === 'discard') {
        await api.delete<void>(path);
        return undefined;
      }
      return api.post<JobDetail>(`${path}/${action}`);
    },
    onSettled: () => client.invalidateQueries({ queryKey: jobKeys.all }),
  });
}
