// A record's page: a header with its key fields and actions, its fields arranged by the
// object's layout (each editable in place), related lists (a company's contacts, deals,
// tickets…, and its activities, tasks and notes), a stage path for records with a pipeline, and
// a timeline of activities, tasks, notes and field history in which any past value can be
// restored and an open task completed. Calls, meetings, notes and tasks are logged from here,
// linked to the record and to the company and contact it is about.
import { App, Button, Card, Col, Descriptions, Dropdown, Empty, Row, Space, Table, Tabs, Tag, Timeline, Tooltip, Typography } from 'antd';
import {
  CalendarOutlined, CheckSquareOutlined, DeleteOutlined, EditOutlined, FileTextOutlined, HistoryOutlined, PhoneOutlined,
  PlusOutlined, RollbackOutlined,
} from '@ant-design/icons';
import { lazy, Suspense, useEffect, useState, type ReactElement } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { api, apiPath } from '../../api/client';
import { keys, useInvalidateRecords, useMe, useObject, useUsers } from '../../api/queries';
import { rememberRecord } from '../../app/recentRecords';
import type { FieldDef, HistoryEntry, ObjectDef, RecordBody, RecordList, RelatedList, User } from '../../api/types';
import { useI18n, type I18n, type MessageKey } from '../../i18n/I18nProvider';
import { PageError, PageLoading, errorMessage } from '../../app/PageState';
import { objectIcon } from '../../app/objectIcons';
import { FieldValue } from './fields/FieldValue';
import { InlineCell } from './InlineCell';
import { RecordForm, formSections } from './RecordForm';
import { loggedFromDefaults } from './newRecordDefaults';
import { pipelineField } from './pipeline';
import { StagePath } from './StagePath';
import { TaskDoneButton } from './TaskDoneButton';
import { isOpenTask } from './useRecordPatch';

const TIMELINE_OBJECTS = ['activity', 'task', 'note'];
const JourneyTimeline = lazy(() => import('../cdp/JourneyTimeline'));
const ContactSegmentsPanel = lazy(() => import('../segments/ContactSegmentsPanel'));

export default function RecordPage() {
  const { object: apiName, id } = useParams();
  const { object, objects, isLoading } = useObject(apiName);
  if (isLoading) return <PageLoading />;
  if (!object || !objects || !id) return <PageError error={new Error('object')} />;
  return <RecordView key={id} object={object} objects={objects} id={id} />;
}

function relationFields(object: ObjectDef): string[] {
  return object.fields.filter((f) => f.type === 'relation' && !f.archived_at).map((f) => f.api_name);
}

function RecordView({ object, objects, id }: { object: ObjectDef; objects: ObjectDef[]; id: string }) {
  const i18n = useI18n();
  const { t, label } = i18n;
  const { message, modal } = App.useApp();
  const navigate = useNavigate();
  const users = useUsers();
  const invalidate = useInvalidateRecords();
  const [editOpen, setEditOpen] = useState(false);
  const [logging, setLogging] = useState<{ object: ObjectDef; values: Record<string, unknown>; title: string } | null>(null);
  const base = apiPath`/api/v1/objects/${object.api_name}/records/${id}`;
  const record = useQuery({
    queryKey: keys.record(object.api_name, id),
    queryFn: () => api.get<RecordBody>(base, { expand: relationFields(object).join(',') || undefined }),
  });
  // The home page lists the records a user opened last.
  const userId = useMe().data?.user.id;
  const visited = record.data;
  useEffect(() => {
    if (userId && visited) rememberRecord(userId, { object: object.api_name, id: visited.id, name: visited.name ?? null });
  }, [userId, visited, object.api_name]);
  const related = useQuery({
    queryKey: ['related', object.api_name],
    queryFn: () => api.get<RelatedList[]>(apiPath`/api/v1/objects/${object.api_name}/related`),
    staleTime: 60_000,
  });

  if (record.isLoading) return <PageLoading />;
  if (record.error || !record.data) return <PageError error={record.error} onRetry={() => record.refetch()} />;
  const r = record.data;
  const sections = formSections(object);
  const keyFields = (sections[0]?.fields ?? []).filter((f) => f.api_name !== object.name_field).slice(0, 4);
  const formulas = object.fields.filter((f) => f.type === 'formula' && !f.archived_at);
  const loggable = (related.data ?? []).filter((l) => TIMELINE_OBJECTS.includes(l.object));
  const lists = related.data ?? [];
  const pipeline = pipelineField(object);

  const startLog = (kind: 'call' | 'meeting' | 'note' | 'task') => {
    const objectName = kind === 'call' || kind === 'meeting' ? 'activity' : kind;
    const link = loggable.find((l) => l.object === objectName);
    const target = objects.find((o) => o.api_name === objectName);
    if (!link || !target) return;
    const values = loggedFromDefaults(target, link.field, object, r);
    if (objectName === 'activity') {
      values.type = kind;
      values.occurred_at = new Date().toISOString();
    }
    const titles: Record<typeof kind, MessageKey> = { call: 'record.logCall', meeting: 'record.logMeeting', note: 'record.addNote', task: 'record.addTask' };
    setLogging({ object: target, values, title: t(titles[kind]) });
  };

  const remove = () =>
    modal.confirm({
      title: t('common.confirmDelete'),
      okButtonProps: { danger: true },
      okText: t('common.delete'),
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          await api.delete(base);
          message.success(t('record.deleted'));
          await invalidate(object.api_name);
          navigate(`/o/${object.api_name}`);
        } catch (error) {
          message.error(errorMessage(i18n, error));
        }
      },
    });

  const logItems = [
    loggable.some((l) => l.object === 'activity') && { key: 'call', icon: <PhoneOutlined />, label: t('record.logCall') },
    loggable.some((l) => l.object === 'activity') && { key: 'meeting', icon: <CalendarOutlined />, label: t('record.logMeeting') },
    loggable.some((l) => l.object === 'note') && { key: 'note', icon: <FileTextOutlined />, label: t('record.addNote') },
    loggable.some((l) => l.object === 'task') && { key: 'task', icon: <CheckSquareOutlined />, label: t('record.addTask') },
  ].filter(Boolean) as { key: 'call' | 'meeting' | 'note' | 'task'; icon: ReactElement; label: string }[];

  return (
    <div data-testid="record-page">
      <Card style={{ marginBottom: 16 }}>
        <div style={{ display: 'flex', flexWrap: 'wrap', gap: 12, alignItems: 'center' }}>
          <span style={{ fontSize: 28, color: '#1f6feb' }}>{objectIcon(object.api_name)}</span>
          <div style={{ flex: 1, minWidth: 200 }}>
            <Link to={`/o/${object.api_name}`}>
              <Typography.Text type="secondary">{label(object.plural_label)}</Typography.Text>
            </Link>
            <Typography.Title level={3} style={{ margin: 0 }} data-testid="record-title">
              {r.name ?? r.id}
            </Typography.Title>
          </div>
          <Space wrap>
            {logItems.length > 0 && (
              <Dropdown menu={{ items: logItems, onClick: ({ key }) => startLog(key as 'call') }}>
                <Button icon={<PlusOutlined />}>{t('record.log')}</Button>
              </Dropdown>
            )}
            <Button icon={<EditOutlined />} onClick={() => setEditOpen(true)} data-testid="edit-record">
              {t('common.edit')}
            </Button>
            <Tooltip title={t('common.delete')}>
              <Button danger icon={<DeleteOutlined />} onClick={remove} aria-label={t('common.delete')} />
            </Tooltip>
          </Space>
        </div>
        {keyFields.length > 0 && (
          <Row gutter={[24, 8]} style={{ marginTop: 16 }}>
            {keyFields.map((f) => (
              <Col key={f.api_name} xs={12} md={6}>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {label(f.label)}
                </Typography.Text>
                <div style={{ fontSize: 16 }}>
                  <FieldValue field={f} value={r.values[f.api_name]} record={r} users={users.data} />
                </div>
              </Col>
            ))}
          </Row>
        )}
      </Card>
      {pipeline && <StagePath object={object} field={pipeline} record={r} />}
      <Row gutter={16}>
        <Col xs={24} lg={14}>
          <Card>
            <Tabs
              items={[
                {
                  key: 'details',
                  label: t('record.details'),
                  children: (
                    <Space orientation="vertical" style={{ width: '100%' }} size="large">
                      {sections.map((section, i) => (
                        <Descriptions
                          key={i}
                          title={section.labelObj ? label(section.labelObj) : t(section.label ?? 'record.otherFields')}
                          column={{ xs: 1, sm: 1, md: 2 }}
                          size="small"
                          items={section.fields.map((f) => ({
                            key: f.api_name,
                            label: label(f.label),
                            children: <InlineCell object={object.api_name} field={f} record={r} users={users.data} />,
                          }))}
                        />
                      ))}
                      {formulas.length > 0 && (
                        <Descriptions
                          column={{ xs: 1, md: 2 }}
                          size="small"
                          items={formulas.map((f) => ({ key: f.api_name, label: label(f.label), children: <FieldValue field={f} value={r.values[f.api_name]} /> }))}
                        />
                      )}
                      <Descriptions
                        column={{ xs: 1, md: 2 }}
                        size="small"
                        items={[
                          { key: 'owner', label: t('common.owner'), children: users.data?.find((u) => u.id === r.owner_id)?.name ?? t('common.none') },
                          { key: 'created', label: t('common.created'), children: i18n.dateTime(r.created_at) },
                          { key: 'updated', label: t('common.updated'), children: i18n.dateTime(r.updated_at) },
                        ]}
                      />
                    </Space>
                  ),
                },
                {
                  key: 'related',
                  label: t('record.related'),
                  children: lists.length ? (
                    <Space orientation="vertical" style={{ width: '100%' }} size="large">
                      {lists.map((l) => (
                        <RelatedTable key={`${l.object}.${l.field}`} list={l} objects={objects} base={base} />
                      ))}
                    </Space>
                  ) : (
                    <Empty description={t('record.noRelated')} />
                  ),
                },
                ...(object.api_name === 'contact'
                  ? [{ key: 'journey', label: t('cdp.journey.title'), children: <Suspense fallback={<PageLoading />}><JourneyTimeline contactId={r.id} /></Suspense> }]
                  : []),
              ]}
            />
          </Card>
        </Col>
        <Col xs={24} lg={10}>
          {object.api_name === 'contact' && (
            <Suspense fallback={null}>
              <ContactSegmentsPanel contactId={r.id} />
            </Suspense>
          )}
          <Card title={<span><HistoryOutlined /> {t('record.timeline')}</span>}>
            <RecordTimeline object={object} objects={objects} record={r} base={base} loggable={loggable} users={users.data ?? []} />
          </Card>
        </Col>
      </Row>
      <RecordForm object={object} record={r} open={editOpen} onClose={() => setEditOpen(false)} />
      {logging && (
        <RecordForm
          object={logging.object}
          open
          title={logging.title}
          initialValues={logging.values}
          onClose={() => setLogging(null)}
          onSaved={() => invalidate(logging.object.api_name)}
        />
      )}
    </div>
  );
}

function RelatedTable({ list, objects, base }: { list: RelatedList; objects: ObjectDef[]; base: string }) {
  const { label, t } = useI18n();
  const users = useUsers();
  const target = objects.find((o) => o.api_name === list.object);
  const shown = (target?.layout?.[0]?.fields ?? (target ? [target.name_field] : [])).filter((f) => f !== list.field).slice(0, 4);
  // Relation columns show the linked records' names, which the server adds under `expanded`.
  const expand = shown.filter((name) => target?.fields.some((f) => f.api_name === name && f.type === 'relation')).join(',');
  const rows = useQuery({
    queryKey: ['related', base, list.object, list.field, expand],
    queryFn: () => api.get<RecordList>(`${base}/related/${list.object}/${list.field}`, { limit: 20, expand: expand || undefined }),
  });
  if (!target) return null;
  return (
    <div>
      <Typography.Title level={5}>
        {objectIcon(target.api_name)} {label(list.label)} <Tag>{rows.data?.data.length ?? '…'}</Tag>
      </Typography.Title>
      <Table<RecordBody>
        size="small"
        rowKey="id"
        loading={rows.isLoading}
        dataSource={rows.data?.data ?? []}
        pagination={false}
        locale={{ emptyText: t('record.noRelated') }}
        scroll={{ x: 'max-content' }}
        columns={shown.map((name) => {
          const field = target.fields.find((f) => f.api_name === name);
          return {
            key: name,
            title: field ? label(field.label) : name,
            render: (_: unknown, r: RecordBody) =>
              name === target.name_field ? (
                <Link to={`/o/${target.api_name}/${r.id}`}>{r.name ?? t('common.unnamedRecord')}</Link>
              ) : field ? (
                <FieldValue field={field} value={r.values[name]} record={r} users={users.data} />
              ) : null,
          };
        })}
      />
    </div>
  );
}

interface TimelineItem {
  at: string;
  key: string;
  node: ReactElement;
  color?: string;
  dot?: ReactElement;
}

function RecordTimeline({
  object, objects, record, base, loggable, users,
}: {
  object: ObjectDef;
  objects: ObjectDef[];
  record: RecordBody;
  base: string;
  loggable: RelatedList[];
  users: User[];
}) {
  const i18n = useI18n();
  const { t } = i18n;
  const { message } = App.useApp();
  const invalidate = useInvalidateRecords();
  const history = useQuery({
    queryKey: keys.history(object.api_name, record.id),
    queryFn: () => api.get<HistoryEntry[]>(`${base}/history`),
  });
  const activities = useQuery({
    queryKey: ['related', base, 'timeline', loggable.map((l) => `${l.object}.${l.field}`).join(',')],
    enabled: loggable.length > 0,
    queryFn: async () => {
      const lists = await Promise.all(
        loggable.map((l) =>
          api.get<RecordList>(`${base}/related/${l.object}/${l.field}`, { limit: 50 }).then((page) => page.data.map((r) => ({ list: l, record: r }))),
        ),
      );
      return lists.flat();
    },
  });

  const restore = async (body: { change_id?: number; at?: string }) => {
    try {
      await api.post(`${base}/history/restore`, body);
      message.success(t('history.restored.ok'));
      await invalidate(object.api_name);
    } catch (error) {
      message.error(errorMessage(i18n, error));
    }
  };

  const items = (() => {
    const out: TimelineItem[] = [];
    for (const entry of history.data ?? []) {
      out.push({ at: entry.changed_at, key: `h${entry.id}`, ...historyItem(i18n, object, entry, users, restore) });
    }
    for (const { record: r } of activities.data ?? []) {
      const target = objects.find((o) => o.api_name === r.object);
      if (!target) continue;
      const when = (r.values.occurred_at as string) ?? r.created_at;
      out.push({
        at: when,
        key: `a${r.id}`,
        color: 'green',
        dot: <span style={{ color: '#52c41a' }}>{objectIcon(r.object)}</span>,
        node: (
          <div>
            {isOpenTask(r) && <TaskDoneButton task={r} />}{' '}
            <Link to={`/o/${r.object}/${r.id}`}>
              <Typography.Text strong delete={r.object === 'task' && !isOpenTask(r)}>{r.name ?? i18n.label(target.label)}</Typography.Text>
            </Link>{' '}
            {r.values.type !== undefined && target.fields.find((f) => f.api_name === 'type') && (
              <FieldValue field={target.fields.find((f) => f.api_name === 'type') as FieldDef} value={r.values.type} />
            )}
            {typeof r.values.notes === 'string' && <Typography.Paragraph type="secondary" ellipsis={{ rows: 2 }} style={{ margin: 0 }}>{r.values.notes}</Typography.Paragraph>}
            {typeof r.values.body === 'string' && <Typography.Paragraph type="secondary" ellipsis={{ rows: 2 }} style={{ margin: 0 }}>{r.values.body}</Typography.Paragraph>}
            <div><Typography.Text type="secondary" style={{ fontSize: 12 }}>{i18n.dateTime(when)}</Typography.Text></div>
          </div>
        ),
      });
    }
    return out.sort((a, b) => b.at.localeCompare(a.at));
  })();

  if (history.isLoading) return <PageLoading />;
  if (history.error) return <PageError error={history.error} onRetry={() => history.refetch()} />;
  if (items.length === 0) return <Empty description={t('history.empty')} />;
  return (
    <div data-testid="timeline" style={{ maxHeight: 'calc(100vh - 260px)', overflowY: 'auto', paddingTop: 8 }}>
      <Timeline items={items.map((i) => ({ key: i.key, color: i.color, icon: i.dot, content: i.node }))} />
    </div>
  );
}

function historyItem(
  i18n: I18n,
  object: ObjectDef,
  entry: HistoryEntry,
  users: User[],
  restore: (body: { change_id?: number; at?: string }) => void,
): Omit<TimelineItem, 'at' | 'key'> {
  const { t, label } = i18n;
  const actor = users.find((u) => u.id === entry.actor_id)?.name ?? t('history.system');
  const sourceKey = `source.${entry.source}` as MessageKey;
  const source = t(sourceKey) === sourceKey ? entry.source : t(sourceKey);
  const field = object.fields.find((f) => f.api_name === entry.field);
  const fieldLabel = entry.field === 'owner_id' ? t('common.owner') : field ? label(field.label) : entry.field ?? '';
  const meta = (
    <Typography.Text type="secondary" style={{ fontSize: 12 }}>
      {i18n.dateTime(entry.changed_at)} · {t('history.source', { source })}
    </Typography.Text>
  );
  if (entry.kind === 'updated') {
    const show = (value: unknown) =>
      field ? <FieldValue field={field} value={value} users={users} /> : entry.field === 'owner_id' ? users.find((u) => u.id === value)?.name ?? String(value ?? '—') : String(value ?? '—');
    return {
      color: 'blue',
      node: (
        <div data-testid="history-change" data-field={entry.field ?? ''}>
          <Typography.Text>
            <strong>{actor}</strong> {t('history.updated', { field: fieldLabel })}
          </Typography.Text>
          <div className="timeline-change">
            <Space wrap size={4}>
              <span>{t('history.from')}</span>
              <span data-testid="history-old">{show(entry.old_value)}</span>
              <span>{t('history.to')}</span>
              <span data-testid="history-new">{show(entry.new_value)}</span>
            </Space>
          </div>
          <Space wrap size={4}>
            {meta}
            <Button size="small" type="link" icon={<RollbackOutlined />} onClick={() => restore({ change_id: entry.id })} data-testid="restore-change">
              {t('history.restoreValue')}
            </Button>
          </Space>
        </div>
      ),
    };
  }
  const kinds: Record<string, MessageKey> = { created: 'history.created', deleted: 'history.deleted', restored: 'history.restored' };
  return {
    color: entry.kind === 'deleted' ? 'red' : 'gray',
    node: (
      <div>
        <Typography.Text>
          <strong>{actor}</strong> {t(kinds[entry.kind] ?? 'history.updated', { field: '' })}
        </Typography.Text>
        <div>
          {meta}
          {entry.kind === 'created' && (
            <Button size="small" type="link" icon={<RollbackOutlined />} onClick={() => restore({ at: entry.changed_at })}>
              {t('history.restoreAt')}
            </Button>
          )}
        </div>
      </div>
    ),
  };
}
