// The schema registry (事件结构注册表): registered event types with their JSON Schema (create,
// edit, delete); event types and properties that arrived without fitting, registered in one step
// after seeing the proposed schema; and the held (quarantined or rejected) events with their
// reason, replayed per event type once the schema fits.
import { Alert, App, Badge, Button, Card, Descriptions, Form, Input, List, Modal, Segmented, Select, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { DeleteOutlined, EditOutlined, PlusOutlined, RedoOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Fragment, useState } from 'react';
import { api, ApiError } from '../../api/client';
import { eventCodeText } from '../../i18n/codes';
import { useI18n } from '../../i18n/I18nProvider';
import { PageError, errorMessage } from '../../app/PageState';
import {
  cdpKeys, cdpPath, useInvalidateCdp, useSources, type EventType, type EventTypeInput, type HeldEvent, type Observed, type ReplayReport,
} from './api';
import { codeLabel, parseSchema } from './model';
import { useEventNames, useEventTypes } from './eventNames';
import { schemaProperties } from '../segments/model';

const EMPTY_SCHEMA = '{\n  "type": "object",\n  "properties": {}\n}';

export default function RegistryPage() {
  const { t } = useI18n();
  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }} data-testid="cdp-registry">
      <Typography.Title level={4} style={{ margin: 0 }}>
        {t('cdp.registry.title')}
      </Typography.Title>
      <ObservedCard />
      <EventTypesCard />
      <HeldCard />
    </Space>
  );
}

/** A type registered since its events were held, with nothing unregistered left: replay it. */
function fitsNow(o: Observed): boolean {
  return o.registered && o.unregistered_properties.length === 0;
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

function EventTypesCard() {
  const i18n = useI18n();
  const { t } = i18n;
  const { message, modal } = App.useApp();
  const invalidate = useInvalidateCdp();
  const types = useEventTypes();
  const names = useEventNames();
  const [editing, setEditing] = useState<EventType | 'new' | null>(null);

  const remove = (type: EventType) =>
    modal.confirm({
      title: t('cdp.registry.confirmDelete', { name: type.name }),
      content: t('cdp.registry.deleteHint'),
      okButtonProps: { danger: true },
      okText: t('common.delete'),
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          await api.delete(`${cdpPath('/event-types')}?name=${encodeURIComponent(type.name)}`);
          message.success(t('common.deleted'));
          await invalidate();
        } catch (error) {
          message.error(errorMessage(i18n, error));
        }
      },
    });

  return (
    <Card
      title={t('cdp.registry.eventTypes')}
      extra={
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} data-testid="new-event-type">
          {t('cdp.registry.newType')}
        </Button>
      }
    >
      {types.error ? (
        <PageError error={types.error} onRetry={() => types.refetch()} />
      ) : (
        <Table<EventType>
          rowKey="name"
          size="small"
          loading={types.isLoading}
          dataSource={types.data ?? []}
          pagination={{ pageSize: 20, hideOnSinglePage: true }}
          locale={{ emptyText: t('cdp.registry.noTypes') }}
          scroll={{ x: 'max-content' }}
          data-testid="event-types"
          columns={[
            {
              key: 'name',
              title: t('common.name'),
              render: (_, e) => (
                <Space orientation="vertical" size={0}>
                  <Typography.Text strong>{names.event(e.name)}</Typography.Text>
                  {names.event(e.name) !== e.name && <Typography.Text type="secondary" code>{e.name}</Typography.Text>}
                </Space>
              ),
            },
            { key: 'description', title: t('cdp.registry.description'), render: (_, e) => e.description || t('common.none') },
            { key: 'version', title: t('cdp.registry.version'), render: (_, e) => <Tag>v{e.version}</Tag> },
            { key: 'updated', title: t('common.updated'), render: (_, e) => i18n.dateTime(e.updated_at) },
            {
              key: 'actions',
              title: t('common.actions'),
              render: (_, e) => (
                <Space>
                  <Button size="small" icon={<EditOutlined />} onClick={() => setEditing(e)}>
                    {t('common.edit')}
                  </Button>
                  <Tooltip title={t('common.delete')}>
                    <Button size="small" danger icon={<DeleteOutlined />} onClick={() => remove(e)} aria-label={t('cdp.registry.deleteType', { name: e.name })} />
                  </Tooltip>
                </Space>
              ),
            },
          ]}
        />
      )}
      {editing && <EventTypeModal type={editing === 'new' ? null : editing} onClose={() => setEditing(null)} />}
    </Card>
  );
}

interface EventTypeForm {
  name: string;
  description: string;
  schema: string;
  label?: { zh?: string; en?: string };
  property_labels?: Record<string, { zh?: string; en?: string } | undefined>;
}

/** A display name with at least one language given (the other takes its text), or none. */
function givenLabel(label: { zh?: string; en?: string } | undefined): { zh: string; en: string } | undefined {
  const zh = label?.zh?.trim() ?? '';
  const en = label?.en?.trim() ?? '';
  return zh || en ? { zh, en } : undefined;
}

/** The properties a display name can be given to: those of the schema being edited, and any
 * already named. */
function labelledProperties(schemaText: string | undefined, type: EventType | null): string[] {
  const parsed = parseSchema(schemaText ?? '');
  const fromSchema = 'schema' in parsed ? schemaProperties(parsed.schema).map((p) => p.path) : [];
  return [...new Set([...fromSchema, ...Object.keys(type?.property_labels ?? {})])];
}

function EventTypeModal({ type, onClose }: { type: EventType | null; onClose: () => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const { message } = App.useApp();
  const invalidate = useInvalidateCdp();
  const [form] = Form.useForm<EventTypeForm>();
  const [saving, setSaving] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const schemaText = Form.useWatch('schema', form);
  const properties = labelledProperties(schemaText, type);

  const save = async () => {
    const values = await form.validateFields();
    const parsed = parseSchema(values.schema);
    if (!('schema' in parsed)) return;
    const body: EventTypeInput = {
      name: values.name.trim(),
      description: values.description ?? '',
      schema: parsed.schema,
      label: givenLabel(values.label),
      property_labels: Object.fromEntries(
        properties.flatMap((path) => {
          const given = givenLabel(values.property_labels?.[path]);
          return given ? [[path, given]] : [];
        }),
      ),
    };
    setSaving(true);
    setFailure(null);
    try {
      await api.post<EventType>(cdpPath('/event-types'), body);
      message.success(t('common.saved'));
      await invalidate();
      onClose();
    } catch (error) {
      if (error instanceof ApiError && error.code === 'invalid_schema') form.setFields([{ name: 'schema', errors: [errorMessage(i18n, error)] }]);
      else if (error instanceof ApiError && error.code === 'invalid_label') setFailure(errorMessage(i18n, error));
      else if (error instanceof ApiError && error.code === 'invalid_event_type') form.setFields([{ name: 'name', errors: [errorMessage(i18n, error)] }]);
      else setFailure(errorMessage(i18n, error));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Modal
      open
      title={type ? t('cdp.registry.editType', { name: type.name }) : t('cdp.registry.newType')}
      onCancel={onClose}
      onOk={save}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      confirmLoading={saving}
      width={640}
      destroyOnHidden
    >
      <Form
        form={form}
        layout="vertical"
        data-testid="event-type-form"
        initialValues={{
          name: type?.name ?? '',
          description: type?.description ?? '',
          schema: type ? json(type.schema) : EMPTY_SCHEMA,
          label: type?.label ?? { zh: '', en: '' },
          property_labels: type?.property_labels ?? {},
        }}
      >
        {failure && <Alert type="error" showIcon title={failure} style={{ marginBottom: 12 }} />}
        <Form.Item name="name" label={t('common.name')} rules={[{ required: true, whitespace: true, message: t('common.fieldRequired') }]}>
          <Input disabled={Boolean(type)} placeholder="Order Completed" />
        </Form.Item>
        <Form.Item label={t('cdp.registry.displayName')} extra={t('cdp.registry.displayNameHint')} style={{ marginBottom: 8 }}>
          <Space.Compact style={{ width: '100%' }}>
            <Form.Item name={['label', 'zh']} noStyle>
              <Input placeholder={t('cdp.registry.nameZh')} aria-label={t('cdp.registry.nameZh')} maxLength={200} data-testid="event-label-zh" />
            </Form.Item>
            <Form.Item name={['label', 'en']} noStyle>
              <Input placeholder={t('cdp.registry.nameEn')} aria-label={t('cdp.registry.nameEn')} maxLength={200} data-testid="event-label-en" />
            </Form.Item>
          </Space.Compact>
        </Form.Item>
        <Form.Item name="description" label={t('cdp.registry.description')}>
          <Input />
        </Form.Item>
        <Form.Item
          name="schema"
          label={t('cdp.registry.schema')}
          extra={t('cdp.registry.schemaHint')}
          rules={[
            {
              validator: async (_, value: string) => {
                const parsed = parseSchema(value ?? '');
                if ('error' in parsed) {
                  throw new Error(parsed.error === 'json' ? t('cdp.registry.invalidJson', { detail: parsed.detail ?? '' }) : t('cdp.registry.notObject'));
                }
              },
            },
          ]}
        >
          <Input.TextArea autoSize={{ minRows: 8, maxRows: 20 }} spellCheck={false} style={{ fontFamily: 'monospace', fontSize: 13 }} />
        </Form.Item>
        {properties.length > 0 && (
          <Form.Item label={t('cdp.registry.propertyNames')} extra={t('cdp.registry.propertyNamesHint')}>
            <div data-testid="property-labels" style={{ display: 'grid', gridTemplateColumns: 'minmax(80px, max-content) 1fr 1fr', gap: 6, alignItems: 'center' }}>
              {properties.map((path) => (
                <Fragment key={path}>
                  <Typography.Text code>{path}</Typography.Text>
                  <Form.Item name={['property_labels', path, 'zh']} noStyle>
                    <Input size="small" placeholder={t('cdp.registry.nameZh')} aria-label={`${path} ${t('cdp.registry.nameZh')}`} maxLength={200} />
                  </Form.Item>
                  <Form.Item name={['property_labels', path, 'en']} noStyle>
                    <Input size="small" placeholder={t('cdp.registry.nameEn')} aria-label={`${path} ${t('cdp.registry.nameEn')}`} maxLength={200} />
                  </Form.Item>
                </Fragment>
              ))}
            </div>
          </Form.Item>
        )}
      </Form>
    </Modal>
  );
}

function ObservedCard() {
  const i18n = useI18n();
  const { t } = i18n;
  const { message } = App.useApp();
  const invalidate = useInvalidateCdp();
  const { replay, replaying } = useReplay();
  const observed = useQuery({ queryKey: cdpKeys.observed, queryFn: () => api.get<Observed[]>(cdpPath('/event-types/observed')) });
  const [proposal, setProposal] = useState<Observed | null>(null);
  const [saving, setSaving] = useState(false);

  const register = async () => {
    if (!proposal) return;
    setSaving(true);
    try {
      await api.post<EventType>(cdpPath('/event-types/observed/register'), { name: proposal.name });
      message.success(t('cdp.registry.registered', { name: proposal.name }));
      setProposal(null);
      await invalidate();
    } catch (error) {
      message.error(errorMessage(i18n, error));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Card title={<Badge count={observed.data?.length ?? 0} offset={[12, 0]}>{t('cdp.registry.observed')}</Badge>}>
      <Typography.Paragraph type="secondary">{t('cdp.registry.observedHint')}</Typography.Paragraph>
      {observed.error ? (
        <PageError error={observed.error} onRetry={() => observed.refetch()} />
      ) : (
        <Table<Observed>
          rowKey="name"
          size="small"
          loading={observed.isLoading}
          dataSource={observed.data ?? []}
          pagination={false}
          locale={{ emptyText: t('cdp.registry.noObserved') }}
          scroll={{ x: 'max-content' }}
          data-testid="observed"
          columns={[
            {
              key: 'name',
              title: t('common.name'),
              render: (_, o) => (
                <Space>
                  <Typography.Text strong>{o.name}</Typography.Text>
                  {fitsNow(o) ? (
                    <Tag color="green">{t('cdp.registry.fitsNow')}</Tag>
                  ) : (
                    <Tag color={o.registered ? 'blue' : 'orange'}>{t(o.registered ? 'cdp.registry.newProperties' : 'cdp.registry.newType')}</Tag>
                  )}
                </Space>
              ),
            },
            { key: 'held', title: t('cdp.registry.held'), render: (_, o) => <span className="num">{i18n.number(o.held)}</span> },
            {
              key: 'properties',
              title: t('cdp.registry.unregisteredProperties'),
              render: (_, o) => (o.unregistered_properties.length ? o.unregistered_properties.map((p) => <Tag key={p}>{p}</Tag>) : t('common.none')),
            },
            { key: 'seen', title: t('cdp.registry.lastSeen'), render: (_, o) => i18n.relative(o.last_seen) },
            {
              key: 'actions',
              title: t('common.actions'),
              render: (_, o) =>
                fitsNow(o) ? (
                  <Button size="small" icon={<RedoOutlined />} loading={replaying === o.name} onClick={() => replay(o.name)} data-testid="replay-observed">
                    {t('cdp.registry.replay')}
                  </Button>
                ) : (
                  <Button size="small" type="primary" onClick={() => setProposal(o)} data-testid="register-observed">
                    {t('cdp.registry.register')}
                  </Button>
                ),
            },
          ]}
        />
      )}
      <Modal
        open={Boolean(proposal)}
        title={t('cdp.registry.registerTitle', { name: proposal?.name ?? '' })}
        onCancel={() => setProposal(null)}
        onOk={register}
        okText={t('cdp.registry.register')}
        cancelText={t('common.cancel')}
        confirmLoading={saving}
        width={640}
      >
        <Typography.Paragraph>{t(proposal?.registered ? 'cdp.registry.widenHint' : 'cdp.registry.registerHint')}</Typography.Paragraph>
        <pre data-testid="proposed-schema" style={{ background: '#fafafa', padding: 12, borderRadius: 6, maxHeight: 360, overflow: 'auto', fontSize: 12 }}>
          {proposal ? json(proposal.proposed_schema) : ''}
        </pre>
      </Modal>
    </Card>
  );
}

/** Replays the quarantined events of one event type and shows the report. */
function useReplay() {
  const i18n = useI18n();
  const { t } = i18n;
  const { message, modal } = App.useApp();
  const invalidate = useInvalidateCdp();
  const [replaying, setReplaying] = useState<string | null>(null);
  const replay = async (name: string) => {
    setReplaying(name);
    try {
      const report = await api.post<ReplayReport>(cdpPath('/held/replay'), { name });
      await invalidate();
      modal.info({
        title: t('cdp.registry.replayReport', { name }),
        okText: t('common.close'),
        width: 560,
        content: (
          <div data-testid="replay-report">
            <Descriptions
              size="small"
              column={1}
              items={[
                { key: 'replayed', label: t('cdp.registry.replayed'), children: <span data-testid="replayed-count">{i18n.number(report.replayed)}</span> },
                { key: 'duplicates', label: t('cdp.registry.replayDuplicates'), children: i18n.number(report.duplicates) },
                { key: 'still', label: t('cdp.registry.stillHeld'), children: i18n.number(report.still_held.length) },
              ]}
            />
            {report.still_held.length > 0 && (
              <List
                size="small"
                dataSource={report.still_held}
                renderItem={(r) => (
                  <List.Item>
                    <Space orientation="vertical" size={0}>
                      <Tag color="orange">{eventCodeText(i18n.locale, r.code)}</Tag>
                      {/* The server's detail is English: the code's sentence says it in Chinese. */}
                      {i18n.locale === 'en' && <Typography.Text type="secondary">{r.message}</Typography.Text>}
                    </Space>
                  </List.Item>
                )}
              />
            )}
          </div>
        ),
      });
    } catch (error) {
      message.error(errorMessage(i18n, error));
    } finally {
      setReplaying(null);
    }
  };

  return { replay, replaying };
}

function HeldCard() {
  const i18n = useI18n();
  const { t } = i18n;
  const sources = useSources();
  const { replay, replaying } = useReplay();
  const [disposition, setDisposition] = useState<'quarantined' | 'rejected'>('quarantined');
  const [sourceId, setSourceId] = useState<string | undefined>(undefined);
  const held = useQuery({
    queryKey: [...cdpKeys.held, disposition, sourceId],
    queryFn: () => api.get<HeldEvent[]>(cdpPath('/held'), { disposition, source_id: sourceId, limit: 200 }),
  });
  const names = new Map((sources.data ?? []).map((s) => [s.id, s.name]));
  const byName = new Map<string, number>();
  if (disposition === 'quarantined') for (const e of held.data ?? []) if (e.name) byName.set(e.name, (byName.get(e.name) ?? 0) + 1);

  return (
    <Card title={t('cdp.registry.heldTitle')}>
      <Space wrap style={{ marginBottom: 12 }}>
        <Segmented<'quarantined' | 'rejected'>
          value={disposition}
          onChange={setDisposition}
          options={[
            { value: 'quarantined', label: t('cdp.health.quarantined') },
            { value: 'rejected', label: t('cdp.health.rejected') },
          ]}
          aria-label={t('cdp.registry.disposition')}
          data-testid="held-disposition"
        />
        <Select
          allowClear
          style={{ minWidth: 200 }}
          placeholder={t('cdp.health.allSources')}
          aria-label={t('cdp.health.source')}
          value={sourceId}
          onChange={setSourceId}
          options={(sources.data ?? []).map((s) => ({ value: s.id, label: s.name }))}
        />
      </Space>
      {disposition === 'quarantined' && byName.size > 0 && (
        <div style={{ marginBottom: 12 }}>
          <Typography.Text type="secondary" style={{ display: 'block', marginBottom: 6 }}>
            {t('cdp.registry.replayHint')}
          </Typography.Text>
          <Space wrap>
            {[...byName].map(([name, count]) => (
              <Button key={name} icon={<RedoOutlined />} loading={replaying === name} onClick={() => replay(name)} data-testid="replay" data-name={name}>
                {t('cdp.registry.replayName', { name, count: i18n.number(count) })}
              </Button>
            ))}
          </Space>
        </div>
      )}
      {held.error ? (
        <PageError error={held.error} onRetry={() => held.refetch()} />
      ) : (
        <Table<HeldEvent>
          rowKey="id"
          size="small"
          loading={held.isLoading}
          dataSource={held.data ?? []}
          pagination={{ pageSize: 20, hideOnSinglePage: true }}
          locale={{ emptyText: t('cdp.registry.noHeld') }}
          scroll={{ x: 'max-content' }}
          data-testid="held"
          expandable={{
            expandedRowRender: (e) => <pre style={{ margin: 0, whiteSpace: 'pre-wrap', wordBreak: 'break-all', fontSize: 12 }}>{json(e.payload)}</pre>,
          }}
          columns={[
            { key: 'at', title: t('cdp.registry.receivedAt'), render: (_, e) => i18n.dateTime(e.received_at) },
            { key: 'source', title: t('cdp.health.source'), render: (_, e) => names.get(e.source_id) ?? e.source_id.slice(0, 8) },
            { key: 'name', title: t('common.name'), render: (_, e) => (
              <Space size={4}>
                {e.kind && <Tag>{codeLabel(t, 'cdp.call', e.kind)}</Tag>}
                <span>{e.name ?? t('common.none')}</span>
              </Space>
            ) },
            {
              key: 'reason',
              title: t('cdp.registry.reason'),
              render: (_, e) => (
                <Space orientation="vertical" size={0} style={{ maxWidth: 360 }}>
                  <Tag color={e.disposition === 'rejected' ? 'red' : 'orange'}>{eventCodeText(i18n.locale, e.reason_code)}</Tag>
                  {i18n.locale === 'en' && <Typography.Text type="secondary" style={{ fontSize: 12 }}>{e.reason}</Typography.Text>}
                </Space>
              ),
            },
            {
              key: 'payload',
              title: t('cdp.registry.payload'),
              render: (_, e) => (
                <Typography.Text code ellipsis style={{ maxWidth: 280, display: 'inline-block' }}>
                  {JSON.stringify(e.payload)}
                </Typography.Text>
              ),
            },
          ]}
        />
      )}
    </Card>
  );
}
