// One page of a list view from the server (`POST …/records/query`): filter, multi-key sort,
// keyset cursor, relation names expanded for the visible columns; the total is asked once per
// filter. Keeps showing the previous page while the next one loads.
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api } from '../../api/client';
import { keys } from '../../api/queries';
import type { ObjectDef, RecordList } from '../../api/types';
import type { Condition } from './filter/conditionModel';

export const PAGE_SIZE = 50;

export function useRecordList(object: ObjectDef, filter: Condition | null, sort: string[], columns: string[], cursor: string | undefined) {
  const expand = columns.filter((c) => object.fields.some((f) => f.api_name === c && f.type === 'relation' && !f.archived_at));
  const page = useQuery({
    queryKey: [...keys.records(object.api_name), 'page', { filter, sort, expand, cursor }],
    queryFn: ({ signal }) =>
      api.get<RecordList>(`/api/v1/objects/${object.api_name}/records`, {
        filter: filter ? JSON.stringify(filter) : undefined,
        sort: sort.join(',') || undefined,
        limit: PAGE_SIZE,
        cursor,
        expand: expand.join(',') || undefined,
      }, signal),
    placeholderData: keepPreviousData,
  });
  const total = useQuery({
    queryKey: [...keys.records(object.api_name), 'total', { filter }],
    queryFn: ({ signal }) =>
      api.get<RecordList>(`/api/v1/objects/${object.api_name}/records`, {
        filter: filter ? JSON.stringify(filter) : undefined,
        limit: 1,
        total: true,
        fields: object.name_field,
      }, signal),
    placeholderData: keepPreviousData,
  });
  return { page, total: total.data?.total ?? undefined };
}
