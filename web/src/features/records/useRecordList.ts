// One page of a list view from the server (`GET …/records`): filter, multi-key sort, keyset
// cursor, relation names expanded for the visible columns; the total is asked once per filter.
// Keeps showing the previous page while the next one loads. The query options are shared with
// app/preload.ts, which asks for the first page before React renders.
import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import { api, apiPath } from '../../api/client';
import { keys } from '../../api/queries';
import type { ObjectDef, RecordList } from '../../api/types';
import type { Condition } from './filter/conditionModel';

export const PAGE_SIZE = 50;

/** Relation columns whose records' names the list asks the server to expand. */
function expandedColumns(object: ObjectDef, columns: string[]): string[] {
  return columns.filter((c) => object.fields.some((f) => f.api_name === c && f.type === 'relation' && !f.archived_at));
}

export function listPageQuery(object: ObjectDef, filter: Condition | null, sort: string[], columns: string[], cursor: string | undefined) {
  const expand = expandedColumns(object, columns);
  return queryOptions({
    queryKey: [...keys.records(object.api_name), 'page', { filter, sort, expand, cursor }],
    queryFn: ({ signal }) =>
      api.get<RecordList>(apiPath`/api/v1/objects/${object.api_name}/records`, {
        filter: filter ? JSON.stringify(filter) : undefined,
        sort: sort.join(',') || undefined,
        limit: PAGE_SIZE,
        cursor,
        expand: expand.join(',') || undefined,
      }, signal),
    // A page fetched early (preload) is still fresh when the list mounts: no second request.
    staleTime: 10_000,
  });
}

export function listTotalQuery(object: ObjectDef, filter: Condition | null) {
  return queryOptions({
    queryKey: [...keys.records(object.api_name), 'total', { filter }],
    queryFn: ({ signal }) =>
      api.get<RecordList>(apiPath`/api/v1/objects/${object.api_name}/records`, {
        filter: filter ? JSON.stringify(filter) : undefined,
        limit: 1,
        total: true,
        fields: object.name_field,
      }, signal),
    staleTime: 10_000,
  });
}

export function useRecordList(object: ObjectDef, filter: Condition | null, sort: string[], columns: string[], cursor: string | undefined) {
  const page = useQuery({ ...listPageQuery(object, filter, sort, columns, cursor), placeholderData: keepPreviousData });
  const total = useQuery({ ...listTotalQuery(object, filter), placeholderData: keepPreviousData });
  return { page, total: total.data?.total ?? undefined };
}
