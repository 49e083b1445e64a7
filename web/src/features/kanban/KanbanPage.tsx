// The kanban of any object with a select field (deals by stage out of the box): a column per
// option with its count and amount total (from the aggregate endpoint, exact, moved with the
// card at once and then confirmed by the server), cards paged in with "load more" (keyset
// cursor), dragged from anywhere on the card (its title too) with the mouse, touch or keyboard
// (dnd-kit) to change the value — a normal update, so the change is recorded in the record's
// history. The board is filtered like the list (the same `filter` in the URL, shown as chips),
// and totals use the cards' money format.
import { App, Button, Empty, Select, Space, Spin, Tag, Typography } from 'antd';
import { TableOutlined } from '@ant-design/icons';
import {
  DndContext, DragOverlay, KeyboardSensor, PointerSensor, useDraggable, useDroppable, useSensor, useSensors,
  type DragEndEvent, type DragStartEvent,
} from '@dnd-kit/core';
import { useMemo, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { useInfiniteQuery, useQuery, useQueryClient, type InfiniteData } from '@tanstack/react-query';
import { api, apiPath } from '../../api/client';
import { keys, useInvalidateRecords, useObject, useUsers } from '../../api/queries';
import type { AggregateResult, FieldDef, Money, ObjectDef, RecordBody, RecordList, SelectOption, User } from '../../api/types';
import { useI18n } from '../../i18n/I18nProvider';
import { PageError, PageLoading, errorMessage } from '../../app/PageState';
import { FieldValue } from '../records/fields/FieldValue';
import { activeFields, defaultColumns, defaultGroupBy } from '../records/viewState';
import { moveInTotals } from './totals';
import { filterFields, fromCondition, toCondition, type Condition, type Group } from '../records/filter/conditionModel';
import { FilterButton } from '../records/filter/FilterButton';
import { readUrlFilter, withUrlFilter } from '../records/filter/urlFilter';
import { FilterChips } from '../records/filter/FilterChips';


const NONE = '__none__';
const COLUMN_LIMIT = 50;

export default function KanbanPage() {
  const { object: apiName } = useParams();
  const { object, objects, isLoading } = useObject(apiName);
  if (isLoading) return <PageLoading />;
  if (!object || !objects) return <PageError error={new Error('object')} />;
  return <Board key={object.api_name} object={object} objects={objects} />;
}

/** A column's records: its value (or none), within the board's filter. */
function columnFilter(field: string, value: string, filter: Condition | null): Condition {
  const column: Condition = value === NONE ? { field, op: 'is_empty' } : { field, op: 'eq', value };
  return filter ? { all: [column, filter] } : column;
}

function Board({ object, objects }: { object: ObjectDef; objects: ObjectDef[] }) {
  const i18n = useI18n();
  const { t, label } = i18n;
  const { message } = App.useApp();
  const navigate = useNavigate();
  const client = useQueryClient();
  const invalidate = useInvalidateRecords();
  const users = useUsers();
  const selects = activeFields(object).filter((f) => f.type === 'select');
  const [params, setParams] = useSearchParams();
  const filterText = params.get('filter');
  const filterGroup = useMemo(() => readUrlFilter(filterText) ?? fromCondition(null), [filterText]);
  const filter = useMemo(() => toCondition(filterGroup), [filterGroup]);
  const fields = useMemo(() => filterFields(object, objects), [object, objects]);
  const applyFilter = (group: Group) => setParams((p) => withUrlFilter(p, group), { replace: true });
  const [groupBy, setGroupBy] = useState<string | null>(defaultGroupBy(object));
  const [dragging, setDragging] = useState<RecordBody | null>(null);
  const field = selects.find((f) => f.api_name === groupBy);
  const money = activeFields(object).find((f) => f.type === 'currency');
  const cardFields = useMemo(
    () =>
      defaultColumns(object)
        .filter((c) => c !== object.name_field && c !== groupBy && c !== 'owner_id')
        .map((c) => object.fields.find((f) => f.api_name === c))
        .filter((f): f is FieldDef => Boolean(f))
        .slice(0, 3),
    [object, groupBy],
  );
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 5 } }), useSensor(KeyboardSensor));
  const totalsKey = ['aggregate', object.api_name, groupBy, money?.api_name, filter];
  const totals = useQuery({
    queryKey: totalsKey,
    enabled: Boolean(field),
    queryFn: () =>
      api.post<AggregateResult>(apiPath`/api/v1/objects/${object.api_name}/records/aggregate`, {
        group_by: groupBy,
        filter: filter ?? undefined,
        metrics: money ? [{ op: 'sum', field: money.api_name }] : [],
      }),
  });

  if (!field) {
    return <Empty description={t('kanban.noSelect')} />;
  }
  const columns: { value: string; option?: SelectOption }[] = [
    ...(field.config?.options ?? []).map((o) => ({ value: o.value, option: o })),
    { value: NONE },
  ];
  const columnKey = (value: string) => [...keys.records(object.api_name), 'kanban', groupBy, value, filter];

  const onDragStart = (event: DragStartEvent) => setDragging((event.active.data.current?.record as RecordBody) ?? null);
  const onDragEnd = async (event: DragEndEvent) => {
    setDragging(null);
    const record = event.active.data.current?.record as RecordBody | undefined;
    const from = event.active.data.current?.from as string | undefined;
    const to = event.over?.id as string | undefined;
    if (!record || !from || !to || from === to || !groupBy) return;
    const newValue = to === NONE ? null : to;
    // Move the card and the column totals at once; the server's answer confirms or undoes it.
    await Promise.all([columnKey(from), columnKey(to), totalsKey].map((queryKey) => client.cancelQueries({ queryKey })));
    client.setQueryData<InfiniteData<RecordList>>(columnKey(from), (cards) =>
      cards && { ...cards, pages: cards.pages.map((page) => ({ ...page, data: page.data.filter((r) => r.id !== record.id) })) },
    );
    client.setQueryData<InfiniteData<RecordList>>(columnKey(to), (cards) =>
      cards && {
        ...cards,
        pages: cards.pages.map((page, index) =>
          index === 0 ? { ...page, data: [{ ...record, values: { ...record.values, [groupBy]: newValue } }, ...page.data] } : page,
        ),
      },
    );
    const amount = money ? ((record.values[money.api_name] as Money | null | undefined) ?? null) : null;
    client.setQueryData<AggregateResult>(totalsKey, (result) =>
      result && moveInTotals(result, from === NONE ? null : from, newValue, amount),
    );
    try {
      await api.patch(apiPath`/api/v1/objects/${object.api_name}/records/${record.id}`, {
        values: { [groupBy]: newValue },
        version: record.version,
      });
      const option = field.config?.options?.find((o) => o.value === to);
      message.success(t('kanban.moved', { stage: option ? label(option.label) : t('kanban.none') }));
    } catch (error) {
      message.error(errorMessage(i18n, error));
    } finally {
      await invalidate(object.api_name);
    }
  };

  return (
    <div>
      <div style={{ display: 'flex', flexWrap: 'wrap', gap: 8, alignItems: 'center', marginBottom: 12 }}>
        <Typography.Title level={4} style={{ margin: 0 }}>
          {label(object.plural_label)}
        </Typography.Title>
        <div style={{ flex: 1 }} />
        <Space>
          <Typography.Text>{t('kanban.groupBy')}</Typography.Text>
          <Select
            style={{ minWidth: 160 }}
            value={groupBy}
            onChange={setGroupBy}
            aria-label={t('kanban.groupBy')}
            options={selects.map((f) => ({ value: f.api_name, label: label(f.label) }))}
          />
        </Space>
        <FilterButton value={filterGroup} fields={fields} onApply={applyFilter} />
        <Button icon={<TableOutlined />} onClick={() => navigate(`/o/${object.api_name}${filterText ? `?filter=${encodeURIComponent(filterText)}` : ''}`)}>
          {t('list.table')}
        </Button>
      </div>
      <FilterChips filter={filterGroup} fields={fields} users={users.data} onChange={applyFilter} />
      <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
        {t('kanban.dragHint')}
      </Typography.Paragraph>
      <DndContext
        sensors={sensors}
        onDragStart={onDragStart}
        onDragEnd={onDragEnd}
        onDragCancel={() => setDragging(null)}
        accessibility={{
          screenReaderInstructions: { draggable: t('kanban.dragHint') },
        }}
      >
        <div className="kanban-board" data-testid="kanban-board">
          {columns.map(({ value, option }) => {
            const group = totals.data?.groups.find((g) => (value === NONE ? g.key === null : g.key === value));
            const sums = (group?.metrics?.[0] as Money[] | undefined) ?? [];
            return (
              <KanbanColumn
                key={value}
                value={value}
                title={option ? label(option.label) : t('kanban.none')}
                color={option?.color ?? undefined}
                count={group?.count ?? 0}
                total={sums.map((s) => i18n.money(s.amount, s.currency)).join(' + ')}
                queryKey={columnKey(value)}
                filter={filter}
                object={object}
                groupBy={field.api_name}
                cardFields={cardFields}
                users={users.data ?? []}
              />
            );
          })}
        </div>
        <DragOverlay>{dragging ? <CardBody record={dragging} object={object} cardFields={cardFields} users={users.data ?? []} /> : null}</DragOverlay>
      </DndContext>
    </div>
  );
}

interface ColumnProps {
  value: string;
  title: string;
  color?: string;
  count: number;
  total: string;
  queryKey: unknown[];
  object: ObjectDef;
  groupBy: string;
  cardFields: FieldDef[];
  users: User[];
  filter: Condition | null;
}

function KanbanColumn({ value, title, color, count, total, queryKey, object, groupBy, cardFields, users, filter }: ColumnProps) {
  const i18n = useI18n();
  const { t } = i18n;
  const { setNodeRef, isOver } = useDroppable({ id: value });
  const expand = cardFields.filter((f) => f.type === 'relation').map((f) => f.api_name);
  const cards = useInfiniteQuery({
    queryKey,
    queryFn: ({ pageParam, signal }) =>
      api.get<RecordList>(apiPath`/api/v1/objects/${object.api_name}/records`, {
        filter: JSON.stringify(columnFilter(groupBy, value, filter)),
        sort: '-updated_at',
        limit: COLUMN_LIMIT,
        cursor: pageParam,
        expand: expand.join(',') || undefined,
      }, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const records = cards.data?.pages.flatMap((page) => page.data) ?? [];
  return (
    <section ref={setNodeRef} className={`kanban-column${isOver ? ' over' : ''}`} aria-label={title} data-testid={`kanban-column-${value}`}>
      <header style={{ padding: '4px 4px 8px' }}>
        <Space size={4} wrap>
          <Tag color={color}>{title}</Tag>
          <Typography.Text type="secondary" data-testid="kanban-count">
            {t('kanban.cards', { count })}
          </Typography.Text>
        </Space>
        {total && (
          <div>
            <Typography.Text strong className="num" data-testid="kanban-total">
              {total}
            </Typography.Text>
          </div>
        )}
      </header>
      <div className="kanban-cards">
        {cards.isLoading && <Spin />}
        {cards.isError && (
          <Typography.Text type="danger" style={{ padding: 8 }}>
            {errorMessage(i18n, cards.error)}{' '}
            <Button size="small" type="link" onClick={() => cards.refetch()}>{t('app.retry')}</Button>
          </Typography.Text>
        )}
        {cards.isSuccess && records.length === 0 && <Typography.Text type="secondary" style={{ padding: 8 }}>{t('kanban.empty')}</Typography.Text>}
        {records.map((record) => (
          <KanbanCard key={record.id} record={record} from={value} object={object} cardFields={cardFields} users={users} />
        ))}
        {cards.hasNextPage && (
          <Button
            block
            type="dashed"
            loading={cards.isFetchingNextPage}
            onClick={() => cards.fetchNextPage()}
            data-testid="kanban-load-more"
          >
            {t('kanban.loadMore', { shown: i18n.number(records.length), count: i18n.number(count) })}
          </Button>
        )}
      </div>
    </section>
  );
}

function KanbanCard({ record, from, object, cardFields, users }: { record: RecordBody; from: string; object: ObjectDef; cardFields: FieldDef[]; users: User[] }) {
  const { attributes, listeners, setNodeRef, isDragging } = useDraggable({ id: record.id, data: { record, from } });
  return (
    <div ref={setNodeRef} {...listeners} {...attributes} className={`kanban-card${isDragging ? ' dragging' : ''}`} data-testid="kanban-card" data-name={record.name ?? ''}>
      <CardBody record={record} object={object} cardFields={cardFields} users={users} />
    </div>
  );
}

function CardBody({ record, object, cardFields, users }: { record: RecordBody; object: ObjectDef; cardFields: FieldDef[]; users: User[] }) {
  const { t } = useI18n();
  const owner = users.find((u) => u.id === record.owner_id);
  return (
    <div className="kanban-card" style={{ boxShadow: 'none', padding: 0 }}>
      {/* Not a native link drag: the card's drag starts from its title too. */}
      <Link to={`/o/${object.api_name}/${record.id}`} draggable={false}>
        <Typography.Text strong>{record.name ?? t('common.unnamedRecord')}</Typography.Text>
      </Link>
      {cardFields.map((f) => (
        <div key={f.api_name} style={{ fontSize: 12 }}>
          <FieldValue field={f} value={record.values[f.api_name]} record={record} users={users} />
        </div>
      ))}
      {owner && (
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {owner.name}
        </Typography.Text>
      )}
    </div>
  );
}
