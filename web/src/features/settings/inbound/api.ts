// Inbound webhooks' server state: the generated types, the query keys, and the hooks for the
// list and for a hook's log of requests.
import { useQuery } from '@tanstack/react-query';
import { api, apiPath } from '../../../api/client';
import type { components } from '../../../api/schema';

type Schemas = components['schemas'];
export type Hook = Schemas['Hook'];
export type HookInput = Schemas['HookInput'];
export type HookAuth = Schemas['HookAuth'];
export type CreatedHook = Schemas['CreatedHook'];
export type HookSecret = Schemas['HookSecret'];
export type InboundDelivery = Schemas['InboundDelivery'];

export const hookKeys = {
  all: ['inbound-hooks'] as const,
  deliveries: (id: string) => ['inbound-hooks', id, 'deliveries'] as const,
};

export function useHooks() {
  // Refreshed, so the last request's time shows as senders post.
  return useQuery({ queryKey: hookKeys.all, queryFn: () => api.get<Hook[]>('/api/v1/inbound-hooks'), refetchInterval: 15_000 });
}

export function useHookDeliveries(id: string) {
  return useQuery({
    queryKey: hookKeys.deliveries(id),
    queryFn: () => api.get<InboundDelivery[]>(apiPath`/api/v1/inbound-hooks/${id}/deliveries`, { limit: 50 }),
    refetchInterval: 5_000,
  });
}
