// Display names of event types and their properties, from the schema registry's labels
// ("Product Viewed" → 浏览商品, "series" → 系列), for segments, journeys and the registry: a
// name without a label shows as it arrived.
import { useMemo } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api } from '../../api/client';
import { useI18n } from '../../i18n/I18nProvider';
import { cdpKeys, cdpPath, type EventType } from './api';

type LabelOf = (label: { en: string; zh: string } | undefined | null) => string;

export interface EventNames {
  /** An event's display name. */
  event: (name: string) => string;
  /** A property's display name; `path` may be nested (`address.city`): each part is named. */
  property: (event: string, path: string) => string;
}

/** Names as shown when nothing is known: the raw names. */
export const RAW_NAMES: EventNames = { event: (name) => name, property: (_event, path) => path };

/** Names from the registry's labels, in the language `label` picks. */
export function eventNames(types: EventType[], label: LabelOf): EventNames {
  const byName = new Map(types.map((type) => [type.name, type]));
  return {
    event: (name) => {
      const shown = label(byName.get(name)?.label);
      return shown || name;
    },
    property: (event, path) => {
      const labels = byName.get(event)?.property_labels ?? {};
      const whole = label(labels[path]);
      if (whole) return whole;
      return path
        .split('.')
        .map((part) => label(labels[part]) || part)
        .join(' › ');
    },
  };
}

/** The registry, read once per page and shared (every signed-in user may read it). */
export function useEventTypes() {
  return useQuery({
    queryKey: cdpKeys.eventTypes,
    queryFn: () => api.get<EventType[]>(cdpPath('/event-types')),
    staleTime: 60_000,
  });
}

/** Display names for the signed-in user's language; raw names until the registry arrives. */
export function useEventNames(): EventNames {
  const { label } = useI18n();
  const types = useEventTypes();
  return useMemo(() => (types.data ? eventNames(types.data, label) : RAW_NAMES), [types.data, label]);
}
