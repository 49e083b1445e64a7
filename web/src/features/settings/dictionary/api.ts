// The semantic dictionary's server state: the types of its mappings, the query key and the hook
// for the list (with the values met in traffic that had no mapping).
import { useQuery } from '@tanstack/react-query';
import { api } from '../../../api/client';
import type { components } from '../../../api/schema';

type Schemas = components['schemas'];

/**
 * One pair of a mapping. The server calls it `Entry`, a name the timeline's entry also has, and
 * the generated schema keeps only the timeline's: spelled out here.
 */
export interface MapEntry {
  crm_value: string;
  external_code: string;
}
export type ValueMap = Omit<Schemas['ValueMap'], 'entries'> & { entries: MapEntry[] };
export type ValueMapInput = Omit<Schemas['ValueMapInput'], 'entries'> & { entries: MapEntry[] };
export type Unmapped = Schemas['Unmapped'];
export type Direction = Schemas['Direction'];
export type TranslateRequest = Schemas['TranslateRequest'];
export type Translated = Schemas['Translated'];

export const dictionaryKeys = {
  all: ['dictionary'] as const,
};

export function useValueMaps() {
  // Refreshed, so values met unmapped in traffic show as they come.
  return useQuery({ queryKey: dictionaryKeys.all, queryFn: () => api.get<ValueMap[]>('/api/v1/dictionary'), refetchInterval: 15_000 });
}
