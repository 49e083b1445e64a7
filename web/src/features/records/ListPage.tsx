// The list view of any object: built-in "mine" / "my team's" and saved views (private or
// shared), a visual filter builder with the filter as chips, chosen columns (resizable, the name
// column kept at the left when the table scrolls sideways), multi-key sort, server-side keyset
// paging with a total and a totals row, inline edit, bulk edit / delete of the selection, CSV
// export of the view, and ways to the kanban and the recycle bin. On phones the records are
// cards.
import { App, Badge, Button, Checkbox, Empty, Grid, Modal, Popover, Select, Space, Table, Tag, Tooltip, Typography, Form, Input, Switch } from 'antd';
import type { TableColumnsType, TableProps } from 'antd';
import {
  DeleteOutlined, DownloadOutlined, EditOutlined, PlusOutlined, ProjectOutlined, SaveOutlined, TableOutlined,
  LeftOutlined, RightOutlined, RestOutlined,
} from '@ant-design/icons';
import { lazy, Suspense, useEffect, useMemo, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, requestBlob, apiPath } from '../../api/client';
import { keys, useInvalidateRecords, useMe, useMyTeam, useObject, useUsers, viewsQuery } from '../../api/queries';
import type { FieldDef, ObjectDef, RecordBody, SavedView } from '../../api/types';
import { useI18n } from '../../i18n/I18nProvider';
import { PageError, PageLoading, errorMessage } from '../../app/PageState';
import { filterFields, toCondition } from './filter/conditionModel';
import { readUrlFilter, withUrlFilter } from './filter/urlFilter';
import { FilterButton } from './filter/FilterButton';
import { FilterChips } from './filter/FilterChips';
import { ListTotalsRow, summedColumns } from './ListTotals';
import { LazyFieldInput } from './fields/LazyFieldInput';
import { FieldValue } from './fields/FieldValue';
import { InlineCell } from './InlineCell';
import { PAGE_SIZE, useRecordList } from './useRecordList';
import {
  MY_TEAM_VIEW, MY_VIEW, SYSTEM_COLUMNS, activeFields, columnSortOrder, columnSortPriority, defaultViewState, isAssigned,
  isSystemColumn, myTeamViewState, myViewState, sameView, sortKeys, viewInputOf, viewStateOf, type ViewState,
} from './viewState';
import { TaskDoneButton } from './TaskDoneButton';
import { isOpenTask } from './useRecordPatch';
import { defaultColumnWidth, useColumnWidths } from './columnWidths';
import { ResizableHeaderCell, type ResizableHeaderCellProps } from './ResizableHeaderCell';

// The selection column's width, counted in the table's scroll width.
const SELECTION_WIDTH = 32;
const TABLE_COMPONENTS = { header: { cell: ResizableHeaderCell } };

// Loaded when first opened, so the first paint of a list does not wait for forms and editors.
const RecordForm = lazy(() => import('./RecordForm').then((m) => ({ default: m.RecordForm })));
// Phones only: desktops never load the cards.
const RecordCards = lazy(() => import('./RecordCards').then((m) => ({ default: m.RecordCards })));

export default function ListPage() {
  const { object: apiName } = useParams();
  const { object, objects, isLoading } = useObject(apiName);
  if (isLoading) return <PageLoading />;
  if (!object || !objects) return <PageError error={new Error('object')} />;
  return <ObjectList key={object.api_name} object={object} objects={objects} />;
}

export function useSavedViews(object: string) {
  return useQuery(viewsQuery(object));
}

function ObjectList({ object, objects }: { object: ObjectDef; objects: ObjectDef[] }) {
  const i18n = useI18n();
  const { t, label } = i18n;
  const { message, modal } = App.useApp();
  const navigate = useNavigate();
  const client = useQueryClient();
  const invalidate = useInvalidateRecords();
  const [params, setParams] = useSearchParams();
  const viewId = params.get('view');
  const views = useSavedViews(object.api_name);
  const users = useUsers();
  const me = useMe();
  const userId = me.data?.user.id;
  // Phones get cards instead of a table that would scroll sideways.
  const phone = Grid.useBreakpoint().sm === false;
  const team = useMyTeam();
  const current = views.data?.find((v) => v.id === viewId);
  // A `filter` in the URL (a shared link, a card of the home page) replaces the view's filter;
  // applying a filter writes it there, so the link reproduces the list.
  const urlFilter = params.get('filter');
  const viewBase = useMemo(
    () =>
      current
        ? viewStateOf(object, current)
        : viewId === MY_VIEW && userId
          ? myViewState(object, userId)
          : viewId === MY_TEAM_VIEW && team.members.length > 0
            ? myTeamViewState(object, team.members)
            : defaultViewState(object),
    [current, object, viewId, userId, team.members],
  );
  const base = useMemo(() => {
    const filter = readUrlFilter(urlFilter);
    return filter ? { ...viewBase, filter } : viewBase;
  }, [viewBase, urlFilter]);
  const [state, setState] = useState<ViewState>(base);
  useEffect(() => setState(base), [base]);
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [selected, setSelected] = useState<string[]>([]);
  const [formOpen, setFormOpen] = useState(false);
  const [formUsed, setFormUsed] = useState(false);
  const [saveOpen, setSaveOpen] = useState(false);
  const [bulkOpen, setBulkOpen] = useState(false);
  const columnWidths = useColumnWidths(object.api_name);

  const condition = useMemo(() => toCondition(state.filter), [state.filter]);
  // Back to the first page when the filter or sort changes (a no-op on mount: no second render).
  useEffect(() => {
    setCursors((c) => (c.length === 1 && c[0] === undefined ? c : [undefined]));
    setSelected((s) => (s.length === 0 ? s : []));
  }, [condition, state.sort]);
  const cursor = cursors[cursors.length - 1];
  const { page, total } = useRecordList(object, condition, state.sort, state.columns, cursor);
  const fields = useMemo(() => filterFields(object, objects), [object, objects]);
  const modified = !sameView(state, base);
  const plural = label(object.plural_label);

  const fieldOf = (name: string): FieldDef | undefined => object.fields.find((f) => f.api_name === name);
  const systemLabel = (name: string) =>
    name === 'owner_id' ? t('common.owner') : name === 'created_at' ? t('common.created') : t('common.updated');

  // With several sort keys, each sorted column's header shows its rank (1 sorts first).
  const sortRank = (name: string) => {
    const at = state.sort.findIndex((k) => k === name || k === `-${name}`);
    return state.sort.length > 1 && at >= 0 ? (
      <sup className="sort-rank" data-testid="sort-rank" title={t('list.sortRank', { rank: at + 1 })}>
        {at + 1}
      </sup>
    ) : null;
  };
  const titled = (text: string, name: string) => (
    <span>
      {text}
      {sortRank(name)}
    </span>
  );

  // Every column has a width (dragged, or its type's default); the table scrolls sideways when
  // they add up to more than the page, with the name column kept at the left.
  const widthOf = (name: string) => columnWidths.widths[name] ?? defaultColumnWidth(name, fieldOf(name), object.name_field);
  const columns: TableColumnsType<RecordBody> = state.columns.map((name) => {
    const field = fieldOf(name);
    const sortable = !field || !['multi_select', 'long_text', 'multi_user', 'attachment'].includes(field.type);
    const text = field ? label(field.label) : systemLabel(name);
    const common = {
      key: name,
      dataIndex: name,
      sorter: sortable ? { multiple: columnSortPriority(state.sort, name) || 1 } : undefined,
      sortOrder: columnSortOrder(state.sort, name),
      ellipsis: true,
      width: widthOf(name),
      onHeaderCell: (): ResizableHeaderCellProps => ({
        onResize: (width) => columnWidths.resize(name, width),
        onResizeEnd: (width) => columnWidths.commit(name, width),
        resizeLabel: t('list.resizeColumn', { column: text }),
      }),
    };
    if (!field) {
      return {
        ...common,
        title: titled(text, name),
        render: (_: unknown, r: RecordBody) =>
          name === 'owner_id' ? (
            users.data?.find((u) => u.id === r.owner_id)?.name ?? t('common.none')
          ) : (
            i18n.dateTime(name === 'created_at' ? r.created_at : r.updated_at)
          ),
      };
    }
    if (name === object.name_field) {
      return {
        ...common,
        title: titled(text, name),
        fixed: 'left' as const,
        render: (_: unknown, r: RecordBody) => (
          <Space size={6}>
            {isOpenTask(r) && <TaskDoneButton task={r} />}
            <Link to={`/o/${object.api_name}/${r.id}`}>{r.name ?? t('common.unnamedRecord')}</Link>
          </Space>
        ),
      };
    }
    return {
      ...common,
      title: titled(text, name),
      align: ['currency', 'decimal', 'integer', 'percent'].includes(field.type) ? ('right' as const) : undefined,
      render: (_: unknown, r: RecordBody) => <InlineCell object={object.api_name} field={field} record={r} users={users.data} />,
    };
  });

  const onTableChange: TableProps<RecordBody>['onChange'] = (_p, _f, sorter) => {
    const list = (Array.isArray(sorter) ? sorter : [sorter]).filter((s) => s.columnKey);
    const next = sortKeys(
      list.map((s) => ({
        field: String(s.columnKey),
        order: s.order,
        priority: typeof s.column?.sorter === 'object' && s.column.sorter && 'multiple' in s.column.sorter ? Number(s.column.sorter.multiple) : 1,
      })),
    );
    // A newly clicked column becomes the first key.
    const added = next.find((k) => !state.sort.includes(k));
    setState((s) => ({ ...s, sort: added ? [added, ...next.filter((k) => k !== added)].slice(0, 5) : next }));
  };

  // The filter shown is the filter in the URL, so a copied link reproduces the list.
  const applyFilter = (filter: ViewState['filter']) => {
    setState((s) => ({ ...s, filter }));
    setParams((p) => withUrlFilter(p, filter, toCondition(viewBase.filter) !== null), { replace: true });
  };

  const exportCsv = async () => {
    try {
      const blob = await requestBlob('POST', apiPath`/api/v1/objects/${object.api_name}/records/export`, {
        body: { filter: condition, sort: state.sort, fields: state.columns.filter((c) => !isSystemColumn(c)) },
      });
      const href = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = href;
      a.download = `${object.api_name}-${new Date().toISOString().slice(0, 10)}.csv`;
      a.click();
      URL.revokeObjectURL(href);
      message.success(t('list.exported', { count: total ?? '' }));
    } catch (error) {
      message.error(errorMessage(i18n, error));
    }
  };

  const bulkDelete = () =>
    modal.confirm({
      title: t('list.bulkDeleteConfirm', { count: selected.length }),
      okButtonProps: { danger: true },
      okText: t('common.delete'),
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          await Promise.all(selected.map((id) => api.delete(apiPath`/api/v1/objects/${object.api_name}/records/${id}`)));
          message.success(t('list.bulkDeleted', { count: selected.length }));
          setSelected([]);
          await invalidate(object.api_name);
        } catch (error) {
          message.error(errorMessage(i18n, error));
        }
      },
    });

  const deleteView = (view: SavedView) =>
    modal.confirm({
      title: `${t('views.delete')}${t('common.colon')}${view.name}`,
      okButtonProps: { danger: true },
      okText: t('common.delete'),
      cancelText: t('common.cancel'),
      onOk: async () => {
        await api.delete(apiPath`/api/v1/objects/${object.api_name}/views/${view.id}`);
        message.success(t('views.deleted'));
        setParams({});
        await client.invalidateQueries({ queryKey: keys.views(object.api_name) });
      },
    });

  const columnChoices = [
    ...activeFields(object).map((f) => ({ value: f.api_name, label: label(f.label) })),
    ...SYSTEM_COLUMNS.map((c) => ({ value: c, label: systemLabel(c) })),
  ];
  const hasSelect = activeFields(object).some((f) => f.type === 'select');
  const records = page.data?.data ?? [];
  const pageNumber = cursors.length;

  return (
    <div>
      <div style={{ display: 'flex', flexWrap: 'wrap', gap: 8, alignItems: 'center', marginBottom: 12 }}>
        <Typography.Title level={4} style={{ margin: 0, marginInlineEnd: 8 }}>
          {plural}
        </Typography.Title>
        <Select
          style={{ minWidth: 200 }}
          value={viewId ?? ''}
          aria-label={t('views.name')}
          onChange={(v) => setParams(v ? { view: v } : {})}
          loading={views.isLoading}
          options={[
            { value: '', label: t('views.all', { object: plural }) },
            { value: MY_VIEW, label: t('views.mine', { object: plural }) },
            ...(team.members.length > 0 ? [{ value: MY_TEAM_VIEW, label: t('views.myTeam', { object: plural }) }] : []),
            ...(views.data ?? []).filter((v) => v.kind === 'list').map((v) => ({
              value: v.id,
              label: (
                <span>
                  {v.name} {v.shared && <Tag color="blue">{t('views.sharedTag')}</Tag>}
                </span>
              ),
            })),
          ]}
        />
        {modified && <Badge status="warning" text={t('views.modified')} />}
        <div style={{ flex: 1 }} />
        <FilterButton value={state.filter} fields={fields} onApply={applyFilter} />
        <Popover
          trigger="click"
          placement="bottomRight"
          title={t('list.columns')}
          content={
            <Checkbox.Group
              style={{ display: 'flex', flexDirection: 'column', maxHeight: 360, overflowY: 'auto' }}
              value={state.columns}
              onChange={(values) => {
                const chosen = values as string[];
                const ordered = [...state.columns.filter((c) => chosen.includes(c)), ...chosen.filter((c) => !state.columns.includes(c))];
                setState((s) => ({ ...s, columns: ordered }));
              }}
              options={columnChoices}
            />
          }
        >
          <Button icon={<TableOutlined />}>{t('list.columns')}</Button>
        </Popover>
        <Button icon={<SaveOutlined />} onClick={() => setSaveOpen(true)} disabled={!modified && Boolean(current)}>
          {t('views.save')}
        </Button>
        {current && (
          <Button danger type="text" icon={<DeleteOutlined />} onClick={() => deleteView(current)} aria-label={t('views.delete')} />
        )}
        <Tooltip title={t('list.export')}>
          <Button icon={<DownloadOutlined />} onClick={exportCsv} aria-label={t('list.export')} />
        </Tooltip>
        <Tooltip title={t('bin.open')}>
          <Button
            icon={<RestOutlined />}
            onClick={() => navigate(`/o/${object.api_name}/recycle-bin`)}
            aria-label={t('bin.open')}
            data-testid="open-recycle-bin"
          />
        </Tooltip>
        {hasSelect && (
          <Button icon={<ProjectOutlined />} onClick={() => navigate(`/o/${object.api_name}/kanban`)} data-testid="to-kanban">
            {t('list.kanban')}
          </Button>
        )}
        <Button
          type="primary"
          icon={<PlusOutlined />}
          onClick={() => {
            setFormUsed(true);
            setFormOpen(true);
          }}
          data-testid="new-record"
        >
          {t('list.new', { object: label(object.label) })}
        </Button>
      </div>

      <FilterChips filter={state.filter} fields={fields} users={users.data} onChange={applyFilter} />

      {selected.length > 0 && (
        <Space style={{ marginBottom: 8, padding: '6px 12px', background: '#e6f0ff', borderRadius: 6, width: '100%' }} wrap>
          <Typography.Text strong>{t('list.selected', { count: selected.length })}</Typography.Text>
          <Button size="small" icon={<EditOutlined />} onClick={() => setBulkOpen(true)}>
            {t('list.bulkEdit')}
          </Button>
          <Button size="small" danger icon={<DeleteOutlined />} onClick={bulkDelete}>
            {t('list.bulkDelete')}
          </Button>
        </Space>
      )}

      {page.error ? (
        <PageError error={page.error} onRetry={() => page.refetch()} />
      ) : phone ? (
        <Suspense fallback={<PageLoading />}>
          <RecordCards
            object={object}
            records={records}
            columns={state.columns}
            users={users.data}
            loading={page.isFetching}
            empty={<span>{t('list.empty', { object: plural })}<br />{t('list.emptyHint')}</span>}
          />
        </Suspense>
      ) : (
        <Table<RecordBody>
          rowKey="id"
          size="middle"
          data-testid="record-table"
          columns={columns}
          dataSource={records}
          loading={page.isFetching}
          pagination={false}
          components={TABLE_COMPONENTS}
          tableLayout="fixed"
          scroll={{ x: SELECTION_WIDTH + state.columns.reduce((sum, name) => sum + widthOf(name), 0), y: 'calc(100vh - 290px)' }}
          onChange={onTableChange}
          showSorterTooltip={false}
          summary={
            summedColumns(object, state.columns).length > 0
              ? () => (
                  <Table.Summary fixed="bottom">
                    <ListTotalsRow object={object} columns={state.columns} condition={condition} selectable />
                  </Table.Summary>
                )
              : undefined
          }
          rowSelection={{ selectedRowKeys: selected, onChange: (keys) => setSelected(keys as string[]) }}
          locale={{
            emptyText: page.isLoading ? ' ' : (
              <Empty description={<span>{t('list.empty', { object: plural })}<br />{t('list.emptyHint')}</span>} />
            ),
          }}
        />
      )}

      <div style={{ display: 'flex', justifyContent: 'flex-end', alignItems: 'center', gap: 12, marginTop: 12 }}>
        {total !== undefined && <Typography.Text type="secondary" data-testid="list-total">{t('list.total', { count: i18n.number(total) })}</Typography.Text>}
        <Typography.Text>{t('list.page', { page: pageNumber })}</Typography.Text>
        <Button icon={<LeftOutlined />} disabled={pageNumber <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
          {t('list.previous')}
        </Button>
        <Button
          disabled={!page.data?.next_cursor || records.length < PAGE_SIZE}
          onClick={() => setCursors((c) => [...c, page.data?.next_cursor ?? undefined])}
        >
          {t('list.next')} <RightOutlined />
        </Button>
      </div>

      {formUsed && (
        <Suspense fallback={null}>
          <RecordForm object={object} open={formOpen} onClose={() => setFormOpen(false)} onSaved={(r) => navigate(`/o/${object.api_name}/${r.id}`)} />
        </Suspense>
      )}

      <SaveViewModal
        open={saveOpen}
        onClose={() => setSaveOpen(false)}
        object={object}
        state={state}
        current={current}
        onSaved={(view) => setParams({ view: view.id })}
      />

      <BulkEditModal object={object} ids={selected} open={bulkOpen} onClose={() => setBulkOpen(false)} onDone={() => setSelected([])} />
    </div>
  );
}

function SaveViewModal({
  open, onClose, object, state, current, onSaved,
}: {
  open: boolean;
  onClose: () => void;
  object: ObjectDef;
  state: ViewState;
  current?: SavedView;
  onSaved: (view: SavedView) => void;
}) {
  const i18n = useI18n();
  const { t } = i18n;
  const { message } = App.useApp();
  const client = useQueryClient();
  const [form] = Form.useForm<{ name: string; shared: boolean }>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (open) form.setFieldsValue({ name: current?.name ?? '', shared: current?.shared ?? false });
  }, [open, current, form]);
  const save = async (asNew: boolean) => {
    const values = await form.validateFields();
    setBusy(true);
    try {
      const body = viewInputOf(state, values.name, values.shared, 'list');
      const view =
        current && !asNew
          ? await api.put<SavedView>(apiPath`/api/v1/objects/${object.api_name}/views/${current.id}`, body)
          : await api.post<SavedView>(apiPath`/api/v1/objects/${object.api_name}/views`, body);
      await client.invalidateQueries({ queryKey: keys.views(object.api_name) });
      message.success(t('views.saved'));
      onSaved(view);
      onClose();
    } catch (error) {
      message.error(errorMessage(i18n, error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      open={open}
      onCancel={onClose}
      title={t('views.save')}
      destroyOnHidden
      footer={[
        <Button key="cancel" onClick={onClose}>{t('common.cancel')}</Button>,
        current && <Button key="new" onClick={() => save(true)} loading={busy}>{t('views.saveAs')}</Button>,
        <Button key="save" type="primary" onClick={() => save(false)} loading={busy}>
          {current ? t('views.update') : t('common.save')}
        </Button>,
      ]}
    >
      <Form form={form} layout="vertical">
        <Form.Item name="name" label={t('views.name')} rules={[{ required: true, message: t('common.fieldRequired') }, { max: 100 }]}>
          <Input autoFocus />
        </Form.Item>
        <Form.Item name="shared" label={t('views.shared')} valuePropName="checked">
          <Switch />
        </Form.Item>
      </Form>
    </Modal>
  );
}

function BulkEditModal({ object, ids, open, onClose, onDone }: { object: ObjectDef; ids: string[]; open: boolean; onClose: () => void; onDone: () => void }) {
  const i18n = useI18n();
  const { t, label } = i18n;
  const { message } = App.useApp();
  const invalidate = useInvalidateRecords();
  const [fieldName, setFieldName] = useState<string>();
  const [value, setValue] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const field = object.fields.find((f) => f.api_name === fieldName);
  const apply = async () => {
    if (!field) return;
    setBusy(true);
    try {
      await api.post(apiPath`/api/v1/objects/${object.api_name}/records/batch/update`, {
        records: ids.map((id) => ({ id, values: { [field.api_name]: value === '' ? null : value } })),
      });
      message.success(t('list.bulkEdited', { count: ids.length }));
      await invalidate(object.api_name);
      onDone();
      onClose();
    } catch (error) {
      message.error(errorMessage(i18n, error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal open={open} onCancel={onClose} onOk={apply} okText={t('common.apply')} cancelText={t('common.cancel')} confirmLoading={busy} title={`${t('list.bulkEdit')} (${ids.length})`} destroyOnHidden>
      <Space orientation="vertical" style={{ width: '100%' }}>
        <Select
          style={{ width: '100%' }}
          placeholder={t('list.setField')}
          aria-label={t('list.setField')}
          value={fieldName}
          onChange={(v) => {
            setFieldName(v);
            setValue(null);
          }}
          showSearch={{ optionFilterProp: 'label' }}
          options={activeFields(object)
            // Not attachments either: a file belongs to one record.
            .filter((f) => f.type !== 'formula' && f.type !== 'attachment' && !isAssigned(f) && !f.unique)
            .map((f) => ({ value: f.api_name, label: label(f.label) }))}
        />
        {field && <LazyFieldInput field={field} value={value} onChange={setValue} aria-label={t('list.newValue')} />}
        {field && <FieldValue field={field} value={value} />}
      </Space>
    </Modal>
  );
}
