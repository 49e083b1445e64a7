// Outbound webhooks' server state: the generated types, the query keys, the topics an endpoint
// can receive, and the health map's figures.
import { useQuery } from '@tanstack/react-query';
import { api, apiPath } from '../../../api/client';
import type { components } from '../../../api/schema';

type Schemas = components['schemas'];
export type Endpoint = Schemas['Endpoint'];
export type EndpointInput = Schemas['EndpointInput'];
export type BreakerConfig = Schemas['BreakerConfig'];
export type CreatedEndpoint = Schemas['CreatedEndpoint'];
export type EndpointSecret = Schemas['EndpointSecret'];
export type Delivery = Schemas['Delivery'];
export type DeliveryAttempt = Schemas['DeliveryAttempt'];
export type Resent = Schemas['Resent'];
export type EndpointHealth = Schemas['EndpointHealth'];
export type IntegrationHealth = Schemas['IntegrationHealth'];

/** The outbox topics, in the order the form offers them. */
export const TOPICS = ['record.created', 'record.updated', 'record.deleted', 'record.restored', 'segment.entered', 'segment.exited'] as const;

export const webhookKeys = {
  all: ['webhooks'] as const,
  deliveries: (id: string) => ['webhooks', id, 'deliveries'] as const,
  health: (windowMinutes: number) => ['webhooks', 'health', windowMinutes] as const,
};

export function useEndpoints() {
  // Refreshed, so a breaker's state shows as it changes.
  return useQuery({ queryKey: webhookKeys.all, queryFn: () => api.get<Endpoint[]>('/api/v1/webhooks'), refetchInterval: 10_000 });
}

export function useDeliveries(id: string) {
  return useQuery({
    queryKey: webhookKeys.deliveries(id),
    queryFn: () => api.get<Delivery[]>(apiPath`/api/v1/webhooks/${id}/deliveries`, { limit: 100 }),
    refetchInterval: 5_000,
  });
}

export function useHealth(windowMinutes: number) {
  return useQuery({
    queryKey: webhookKeys.health(windowMinutes),
    queryFn: () => api.get<IntegrationHealth>('/api/v1/webhooks/health', { window_minutes: windowMinutes }),
    refetchInterval: 5_000,
  });
}
