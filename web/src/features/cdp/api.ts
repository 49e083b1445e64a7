// The customer data platform's server state: names for the /api/v1/cdp types (from the
// generated schema), the query keys of its pages and the hooks more than one page uses.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import { useMe } from '../../api/queries';
import type { components } from '../../api/schema';

type Schemas = components['schemas'];

export type Source = Schemas['Source'];
export type SourceInput = Schemas['SourceInput'];
export type CdpSettings = Schemas['Settings'];
export type IdentifierType = Schemas['IdentifierType'];
export type EventType = Schemas['EventType'];
export type EventTypeInput = Schemas['EventTypeInput'];
export type Observed = Schemas['Observed'];
export type HeldEvent = Schemas['HeldEvent'];
export type ReplayReport = Schemas['ReplayReport'];
export type Profile = Schemas['Profile'];
export type ProfilePage = Schemas['ProfilePage'];
export type Merge = Schemas['Merge'];
export type JourneyPage = Schemas['Page'];
export type JourneyEntry = Schemas['Entry'];
export type HealthReport = Schemas['Report'];
export type SourceHealth = Schemas['SourceHealth'];
export type MinutePoint = Schemas['MinutePoint'];
export type HealthWarning = Schemas['Warning'];

export const SOURCE_KINDS = ['app', 'web', 'mini_program', 'pos', 'iot', 'ads', 'wecom', 'service', 'server', 'other'] as const;
export const EVENT_CALLS = ['track', 'page', 'screen', 'identify', 'group', 'alias'] as const;
export const BUILT_IN_IDENTIFIERS = ['user_id', 'anonymous_id', 'email', 'phone', 'wechat_unionid', 'wechat_openid', 'device_id'];

const BASE = '/api/v1/cdp';
export const cdpPath = (path: string) => `${BASE}${path}`;

export const cdpKeys = {
  all: ['cdp'] as const,
  sources: ['cdp', 'sources'] as const,
  settings: ['cdp', 'settings'] as const,
  eventTypes: ['cdp', 'event-types'] as const,
  observed: ['cdp', 'observed'] as const,
  held: ['cdp', 'held'] as const,
  health: (minutes: number) => ['cdp', 'health', minutes] as const,
  profiles: ['cdp', 'profiles'] as const,
  profile: (id: string) => ['cdp', 'profiles', id] as const,
  journey: ['cdp', 'journey'] as const,
};

/** Whether the signed-in user is an administrator, and whether they may read contacts. */
export function useCdpAccess(): { isAdmin: boolean; canReadContacts: boolean } {
  const me = useMe();
  const role = me.data?.role;
  if (!role) return { isAdmin: false, canReadContacts: false };
  const permissions = role.permissions as Record<string, string | undefined>;
  const readable = (name: string) => (permissions[name] ?? '').includes('r');
  return { isAdmin: role.is_admin, canReadContacts: role.is_admin || readable('contact') || readable('*') };
}

/** The sources (admins only; others get an empty list without asking). */
export function useSources() {
  const { isAdmin } = useCdpAccess();
  return useQuery({
    queryKey: cdpKeys.sources,
    enabled: isAdmin,
    queryFn: () => api.get<Source[]>(cdpPath('/sources')),
    staleTime: 30_000,
  });
}

/** Refreshes every CDP query after a change (sources, registry, held events, health, journeys). */
export function useInvalidateCdp() {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: cdpKeys.all });
}
