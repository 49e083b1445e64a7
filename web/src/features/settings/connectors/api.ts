// Connectors' server state: the generated types, the query keys, and the hooks for the list,
// the kinds' field catalogue and a connector's send log.
import { useQuery } from '@tanstack/react-query';
import { api, apiPath } from '../../../api/client';
import type { components } from '../../../api/schema';

type Schemas = components['schemas'];
export type Connector = Schemas['Connector'];
export type ConnectorInput = Schemas['ConnectorInput'];
export type ConnectorKind = Schemas['ConnectorKind'];
export type Channel = Schemas['Channel'];
export type KindInfo = Schemas['KindInfo'];
export type FieldInfo = Schemas['FieldInfo'];
export type Message = Schemas['Message'];
export type SendLog = Schemas['SendLog'];
export type SendState = Schemas['SendState'];

export const connectorKeys = {
  all: ['connectors'] as const,
  kinds: ['connector-kinds'] as const,
  messages: (id: string) => ['connectors', id, 'messages'] as const,
};

export function useConnectors() {
  // Refreshed, so the last send and its error show as queued messages go out.
  return useQuery({ queryKey: connectorKeys.all, queryFn: () => api.get<Connector[]>('/api/v1/connectors'), refetchInterval: 15_000 });
}

export function useKinds() {
  return useQuery({ queryKey: connectorKeys.kinds, queryFn: () => api.get<KindInfo[]>('/api/v1/connectors/kinds'), staleTime: Infinity });
}

export function useSendLog(id: string) {
  return useQuery({
    queryKey: connectorKeys.messages(id),
    queryFn: () => api.get<SendLog[]>(apiPath`/api/v1/connectors/${id}/messages`, { limit: 50 }),
    refetchInterval: 5_000,
  });
}
