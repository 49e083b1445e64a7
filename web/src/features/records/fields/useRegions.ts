// The national region list (`GET /api/v1/regions`, about 137 KB, served compressed) as the
// pickers show it, with every region by code: fetched the first time an address input, an
// address filter or its chip needs it, then kept for the session.
import { useQuery } from '@tanstack/react-query';
import { api } from '../../../api/client';
import type { Region } from '../../../api/types';
import { pickerRegions, regionIndex } from './address';

function forPickers(tree: Region[]) {
  const regions = pickerRegions(tree);
  return { regions, index: regionIndex(regions) };
}

export function useRegions() {
  return useQuery({
    queryKey: ['regions'],
    queryFn: () => api.get<Region[]>('/api/v1/regions'),
    select: forPickers,
    staleTime: Infinity,
    gcTime: Infinity,
  });
}
