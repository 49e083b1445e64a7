// The recycle bin of one object: its deleted records, most recently deleted first
// (`GET …/records?deleted=true`, keyset paged with "load more"), restored one at a time or a
// selection at once (`POST …/{id}/restore`). Reached from the list view's toolbar.
import { App, Button, Empty, Space, Table, Typography } from 'antd';
import type { TableColumnsType } from 'antd';
import { ArrowLeftOutlined, UndoOutlined } from '@ant-design/icons';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useInfiniteQuery } from '@tanstack/react-query';
import { api, apiPath } from '../../api/client';
import { keys, useInvalidateRecords, useObject, useUsers } from '../../api/queries';
import type { ObjectDef, RecordBody, RecordList } from '../../api/types';
import { useI18n } from '../../i18n/I18nProvider';
import { PageError, PageLoading, errorMessage } from '../../app/PageState';
import { PAGE_SIZE } from './useRecordList';

export default function RecycleBinPage() {
  const { object: apiName } = useParams();
  const { object, isLoading } = useObject(apiName);
  if (isLoading) return <PageLoading />;
  if (!object) return <PageError error={new Error('object')} />;
  return <RecycleBin key={object.api_name} object={object} />;
}

function RecycleBin({ object }: { object: ObjectDef }) {
  const i18n = useI18n();
  const { t, label } = i18n;
  const { message } = App.useApp();
  const invalidate = useInvalidateRecords();
  const users = useUsers();
  const [selected, setSelected] = useState<string[]>([]);
  const [restoring, setRestoring] = useState<string[]>([]);
  const deleted = useInfiniteQuery({
    queryKey: [...keys.records(object.api_name), 'deleted'],
    queryFn: ({ pageParam, signal }) =>
      api.get<RecordList>(apiPath`/api/v1/objects/${object.api_name}/records`, {
        deleted: true,
        sort: '-updated_at',
        limit: PAGE_SIZE,
        cursor: pageParam,
      }, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const records = deleted.data?.pages.flatMap((page) => page.data) ?? [];
  const plural = label(object.plural_label);
  const userName = (id: string | null | undefined) => users.data?.find((u) => u.id === id)?.name ?? t('common.none');

  const restore = async (ids: string[]) => {
    setRestoring(ids);
    try {
      await Promise.all(ids.map((id) => api.post(apiPath`/api/v1/objects/${object.api_name}/records/${id}/restore`)));
      const only = ids.length === 1 ? records.find((r) => r.id === ids[0]) : undefined;
      message.success(only ? t('bin.restored', { name: only.name ?? t('common.unnamedRecord') }) : t('bin.restoredMany', { count: ids.length }));
      setSelected((s) => s.filter((id) => !ids.includes(id)));
    } catch (error) {
      message.error(errorMessage(i18n, error));
    } finally {
      setRestoring([]);
      await invalidate(object.api_name);
    }
  };

  const columns: TableColumnsType<RecordBody> = [
    {
      key: 'name',
      title: label(object.fields.find((f) => f.api_name === object.name_field)?.label),
      ellipsis: true,
      render: (_, r) => r.name ?? t('common.unnamedRecord'),
    },
    {
      key: 'deleted_at',
      title: t('bin.deletedAt'),
      width: 200,
      render: (_, r) => (r.deleted_at ? i18n.dateTime(r.deleted_at) : t('common.none')),
    },
    { key: 'owner', title: t('common.owner'), width: 160, render: (_, r) => userName(r.owner_id) },
    {
      key: 'restore',
      title: t('common.actions'),
      width: 120,
      align: 'right',
      render: (_, r) => (
        <Button
          size="small"
          icon={<UndoOutlined />}
          loading={restoring.includes(r.id)}
          disabled={restoring.length > 0 && !restoring.includes(r.id)}
          onClick={() => restore([r.id])}
          aria-label={`${t('bin.restore')} ${r.name ?? ''}`.trim()}
          data-testid="restore-record"
        >
          {t('bin.restore')}
        </Button>
      ),
    },
  ];

  return (
    <div data-testid="recycle-bin">
      <div style={{ display: 'flex', flexWrap: 'wrap', gap: 8, alignItems: 'center', marginBottom: 4 }}>
        <Link to={`/o/${object.api_name}`} aria-label={t('bin.back', { object: plural })}>
          <ArrowLeftOutlined />
        </Link>
        <Typography.Title level={4} style={{ margin: 0 }}>
          {t('bin.title', { object: plural })}
        </Typography.Title>
        <div style={{ flex: 1 }} />
        {selected.length > 0 && (
          <Button type="primary" icon={<UndoOutlined />} loading={restoring.length > 1} onClick={() => restore(selected)}>
            {t('bin.restoreSelected', { count: selected.length })}
          </Button>
        )}
      </div>
      <Typography.Paragraph type="secondary">{t('bin.hint')}</Typography.Paragraph>
      {deleted.error ? (
        <PageError error={deleted.error} onRetry={() => deleted.refetch()} />
      ) : (
        <Table<RecordBody>
          rowKey="id"
          size="middle"
          columns={columns}
          dataSource={records}
          loading={deleted.isLoading}
          pagination={false}
          rowSelection={{ selectedRowKeys: selected, onChange: (ids) => setSelected(ids as string[]) }}
          locale={{ emptyText: deleted.isLoading ? ' ' : <Empty description={t('bin.empty')} /> }}
        />
      )}
      {deleted.hasNextPage && (
        <Space style={{ display: 'flex', justifyContent: 'center', marginTop: 12 }}>
          <Button loading={deleted.isFetchingNextPage} onClick={() => deleted.fetchNextPage()}>
            {t('common.loadMore')}
          </Button>
        </Space>
      )}
    </div>
  );
}
