// Picks a record of another object by searching its name field (server-side, as you type);
// shows the current record's name even before any search.
import { Select, Spin } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, apiPath } from '../../../api/client';
import { useObject } from '../../../api/queries';
import type { RecordBody, RecordList } from '../../../api/types';

interface Props {
  target: string;
  value?: unknown;
  onChange: (value: unknown) => void;
  multiple?: boolean;
  id?: string;
  autoFocus?: boolean;
  'aria-label'?: string;
}

export function RelationSelect({ target, value, onChange, multiple, ...rest }: Props) {
  const { object } = useObject(target);
  const [text, setText] = useState('');
  const nameField = object?.name_field ?? 'name';
  const found = useQuery({
    queryKey: ['lookup', target, text],
    enabled: Boolean(object),
    queryFn: ({ signal }) =>
      api.get<RecordList>(
        apiPath`/api/v1/objects/${target}/records`,
        {
          limit: 20,
          fields: nameField,
          sort: text ? nameField : '-updated_at',
          filter: text ? JSON.stringify({ field: nameField, op: 'contains', value: text }) : undefined,
        },
        signal,
      ),
    staleTime: 10_000,
  });
  const ids = (Array.isArray(value) ? value : value ? [value] : []) as string[];
  const current = useQuery({
    queryKey: ['lookup-current', target, ids.join(',')],
    enabled: ids.length > 0,
    queryFn: () =>
      api.get<RecordList>(apiPath`/api/v1/objects/${target}/records`, {
        limit: ids.length,
        fields: nameField,
        filter: JSON.stringify({ field: 'id', op: 'in', value: ids }),
      }),
    staleTime: 60_000,
  });
  const options = new Map<string, string>();
  for (const r of [...(current.data?.data ?? []), ...(found.data?.data ?? [])] as RecordBody[]) {
    options.set(r.id, r.name ?? r.id);
  }
  return (
    <Select
      {...rest}
      style={{ width: '100%' }}
      showSearch={{ filterOption: false, onSearch: setText }}
      allowClear
      mode={multiple ? 'multiple' : undefined}
      value={multiple ? ids : (value as string | undefined) ?? undefined}
      onChange={(v) => onChange(v ?? null)}
      notFoundContent={found.isFetching ? <Spin size="small" /> : undefined}
      options={[...options].map(([id, name]) => ({ value: id, label: name }))}
    />
  );
}
