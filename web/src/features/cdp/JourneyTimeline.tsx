// The customer's journey (客户旅程): every event from every source and the CRM's own records and
// field changes, newest first, grouped by day, with an icon and colour per source kind or
// object. Filters by source (including "CRM") and type; pages on with "Load more". Shared by the
// contact's record page and the profile page.
import { Button, Empty, Select, Space, Tag, Timeline, Tooltip, Typography } from 'antd';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useMemo, useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import { api, apiPath } from '../../api/client';
import { useObjects, useUsers } from '../../api/queries';
import type { FieldDef, ObjectDef } from '../../api/types';
import { useI18n, type MessageKey } from '../../i18n/I18nProvider';
import { PageError, PageLoading } from '../../app/PageState';
import { FieldValue } from '../records/fields/FieldValue';
import { EVENT_CALLS, cdpKeys, cdpPath, useSources, type JourneyEntry, type JourneyPage } from './api';
import { useEventNames } from './eventNames';
import { codeLabel, eventProperties, formatTime, groupByDay } from './model';
import { entryVisual, kindVisual } from './visuals';

const PAGE_SIZE = 50;

interface JourneyTimelineProps {
  /** The contact whose journey is shown (the record page), or */
  contactId?: string;
  /** the profile whose journey is shown (the profile page). */
  profileId?: string;
}

export default function JourneyTimeline({ contactId, profileId }: JourneyTimelineProps) {
  const i18n = useI18n();
  const { t, label } = i18n;
  const objects = useObjects();
  const sources = useSources();
  const [sourceFilter, setSourceFilter] = useState<string[]>([]);
  const [typeFilter, setTypeFilter] = useState<string[]>([]);
  const path = contactId ? cdpPath(apiPath`/contacts/${contactId}/journey`) : cdpPath(apiPath`/profiles/${String(profileId)}/timeline`);
  const journey = useInfiniteQuery({
    queryKey: [...cdpKeys.journey, path, sourceFilter, typeFilter],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) =>
      api.get<JourneyPage>(
        path,
        { sources: sourceFilter.join(',') || undefined, types: typeFilter.join(',') || undefined, limit: PAGE_SIZE, cursor: pageParam },
        signal,
      ),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const entries = useMemo(() => journey.data?.pages.flatMap((p) => p.entries) ?? [], [journey.data]);

  const kinds = useMemo(() => new Map((sources.data ?? []).map((s) => [s.id, s.kind])), [sources.data]);
  const sourceOptions = useMemo(() => {
    const named = new Map<string, string>((sources.data ?? []).map((s) => [s.id, s.name]));
    for (const e of entries) if (e.category === 'event' && !named.has(e.source)) named.set(e.source, e.source_name ?? e.source);
    return [
      { value: 'crm', label: t('cdp.journey.crm') },
      ...[...named].map(([value, name]) => ({ value, label: name })),
    ];
  }, [sources.data, entries, t]);
  const related = useMemo(
    () =>
      (objects.data ?? []).filter((o) => !o.archived_at && o.fields.some((f) => f.type === 'relation' && f.config?.target === 'contact' && !f.archived_at)),
    [objects.data],
  );
  const typeOptions = [
    ...EVENT_CALLS.map((c) => ({ value: c, label: t(`cdp.call.${c}`) })),
    ...related.map((o) => ({ value: o.api_name, label: label(o.label) })),
    { value: 'field_change', label: t('cdp.journey.fieldChange') },
  ];
  const filtered = sourceFilter.length > 0 || typeFilter.length > 0;

  return (
    <div data-testid="journey">
      <Space wrap style={{ marginBottom: 16 }}>
        <Select
          mode="multiple"
          allowClear
          style={{ minWidth: 220 }}
          placeholder={t('cdp.journey.allSources')}
          aria-label={t('cdp.journey.sources')}
          options={sourceOptions}
          value={sourceFilter}
          onChange={setSourceFilter}
          maxTagCount="responsive"
          data-testid="journey-sources"
        />
        <Select
          mode="multiple"
          allowClear
          style={{ minWidth: 220 }}
          placeholder={t('cdp.journey.allTypes')}
          aria-label={t('cdp.journey.types')}
          options={typeOptions}
          value={typeFilter}
          onChange={setTypeFilter}
          maxTagCount="responsive"
          data-testid="journey-types"
        />
      </Space>
      {journey.isLoading ? (
        <PageLoading />
      ) : journey.error ? (
        <PageError error={journey.error} onRetry={() => journey.refetch()} />
      ) : entries.length === 0 ? (
        <Empty description={t(filtered ? 'cdp.journey.noMatch' : 'cdp.journey.empty')} />
      ) : (
        <>
          {groupByDay(entries).map((group) => (
            <section key={group.day} aria-label={i18n.date(group.day)}>
              <Typography.Title level={5} style={{ marginTop: 0 }}>
                {i18n.date(group.day)}
              </Typography.Title>
              <Timeline
                items={group.entries.map((entry) => {
                  const visual = entryVisual(entry, kinds);
                  return {
                    key: `${entry.category}:${entry.id}`,
                    icon: <span style={{ color: visual.color, fontSize: 16 }}>{visual.icon}</span>,
                    content: <EntryView entry={entry} objects={objects.data ?? []} kinds={kinds} />,
                  };
                })}
              />
            </section>
          ))}
          {journey.hasNextPage && (
            <div style={{ textAlign: 'center' }}>
              <Button onClick={() => journey.fetchNextPage()} loading={journey.isFetchingNextPage} data-testid="journey-more">
                {t('common.loadMore')}
              </Button>
            </div>
          )}
        </>
      )}
    </div>
  );
}

function EntryView({ entry, objects, kinds }: { entry: JourneyEntry; objects: ObjectDef[]; kinds: Map<string, string> }) {
  const i18n = useI18n();
  const { t, label } = i18n;
  const users = useUsers();
  const names = useEventNames();
  const time = (
    <Typography.Text type="secondary" style={{ fontSize: 12 }}>
      <Tooltip title={i18n.dateTime(entry.at)}>
        <time dateTime={entry.at}>{formatTime(i18n.locale, entry.at)}</time>
      </Tooltip>
    </Typography.Text>
  );

  if (entry.category === 'event') {
    const kind = kinds.get(entry.source);
    // A track is registered under its event's name, the other calls as `$page`, `$identify`…
    const registered = entry.type === 'track' ? (entry.title ?? '') : `$${entry.type}`;
    const title = entry.type === 'track' && entry.title ? names.event(entry.title) : entry.title;
    const pairs = eventProperties(entry).map(([k, v]): [string, string] => [names.property(registered, k), v]);
    return (
      <div data-testid="journey-entry" data-category="event">
        <Space wrap size={4}>
          <Tag>{codeLabel(t, 'cdp.call', entry.type)}</Tag>
          {title && <Typography.Text strong>{title}</Typography.Text>}
          <Tag color={kind ? kindVisual(kind).color : undefined} bordered={false}>
            {entry.source_name ?? entry.source}
          </Tag>
          {time}
        </Space>
        <Properties pairs={pairs} />
      </div>
    );
  }

  if (entry.category === 'record') {
    const object = objects.find((o) => o.api_name === entry.type);
    const data = entry.data as Record<string, unknown>;
    const shown = object
      ? object.fields
          .filter((f) => !f.archived_at && f.api_name !== object.name_field && f.type !== 'relation' && f.type !== 'long_text')
          .filter((f) => data[f.api_name] !== null && data[f.api_name] !== undefined && data[f.api_name] !== '')
          .slice(0, 3)
      : [];
    return (
      <div data-testid="journey-entry" data-category="record">
        <Space wrap size={4}>
          <Tag color="green">{object ? label(object.label) : entry.type}</Tag>
          <Link to={`/o/${entry.type}/${entry.id}`}>
            <Typography.Text strong>{entry.title ?? (object ? label(object.label) : entry.id)}</Typography.Text>
          </Link>
          <Tag bordered={false}>{t('cdp.journey.crm')}</Tag>
          {time}
        </Space>
        {shown.length > 0 && (
          <div>
            <Space wrap size={[12, 0]}>
              {shown.map((f) => (
                <span key={f.api_name}>
                  <Typography.Text type="secondary">{label(f.label)}: </Typography.Text>
                  <FieldValue field={f} value={data[f.api_name]} users={users.data} />
                </span>
              ))}
            </Space>
          </div>
        )}
      </div>
    );
  }

  return <FieldChangeView entry={entry} contact={objects.find((o) => o.api_name === 'contact')} time={time} />;
}

function FieldChangeView({ entry, contact, time }: { entry: JourneyEntry; contact?: ObjectDef; time: ReactNode }) {
  const { t, label } = useI18n();
  const users = useUsers();
  const data = entry.data as { kind?: string; field?: string | null; old_value?: unknown; new_value?: unknown; change_source?: string; actor_id?: string | null };
  const field: FieldDef | undefined = contact?.fields.find((f) => f.api_name === data.field);
  const actor = users.data?.find((u) => u.id === data.actor_id)?.name;
  const via = codeLabel(t, 'source', data.change_source ?? 'system');
  const value = (v: unknown) => (field ? <FieldValue field={field} value={v} users={users.data} /> : <span>{v === null || v === undefined ? t('common.none') : String(v)}</span>);
  const kindKey: Record<string, MessageKey> = {
    created: 'cdp.journey.contactCreated',
    deleted: 'cdp.journey.contactDeleted',
    restored: 'cdp.journey.contactRestored',
  };
  return (
    <div data-testid="journey-entry" data-category="field_change">
      <Space wrap size={4}>
        <Tag>{t('cdp.journey.fieldChange')}</Tag>
        <Typography.Text strong>
          {data.kind === 'updated'
            ? t('cdp.journey.changed', { field: field ? label(field.label) : data.field ?? '' })
            : t(kindKey[data.kind ?? ''] ?? 'cdp.journey.fieldChange')}
        </Typography.Text>
        <Typography.Text type="secondary">{actor ? t('cdp.journey.byVia', { actor, source: via }) : t('cdp.journey.via', { source: via })}</Typography.Text>
        {time}
      </Space>
      {data.kind === 'updated' && (
        <div className="timeline-change">
          <Space wrap size={4}>
            {value(data.old_value)}
            <span aria-label={t('history.to')}>→</span>
            {value(data.new_value)}
          </Space>
        </div>
      )}
    </div>
  );
}

function Properties({ pairs }: { pairs: [string, string][] }) {
  if (pairs.length === 0) return null;
  return (
    <div>
      <Space wrap size={[12, 0]}>
        {pairs.map(([k, v]) => (
          <span key={k} style={{ fontSize: 13 }}>
            <Typography.Text type="secondary">{k}: </Typography.Text>
            <Typography.Text>{v}</Typography.Text>
          </span>
        ))}
      </Space>
    </div>
  );
}
