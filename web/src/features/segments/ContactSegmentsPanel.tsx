// The contact page's "Segments & tags" panel: the customer's tags (from segments, linked to them,
// and set by hand, which can be added and removed here) and the segments they belong to, each
// with its lineage (definition version and the events that let the customer in). The customer
// profile is the one the contact's journey belongs to.
import { App, Button, Card, Empty, Input, Space, Tag, Tooltip, Typography } from 'antd';
import { ApartmentOutlined, PlusOutlined, TagsOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { api, apiPath } from '../../api/client';
import { useI18n } from '../../i18n/I18nProvider';
import { PageError, errorMessage } from '../../app/PageState';
import { cdpPath } from '../cdp/api';
import { segmentKeys, type CustomerTag, type Membership } from './api';
import { Lineage } from './Lineage';

export default function ContactSegmentsPanel({ contactId }: { contactId: string }) {
  const i18n = useI18n();
  const { t } = i18n;
  const { message } = App.useApp();
  const client = useQueryClient();
  const [draft, setDraft] = useState('');
  const [busy, setBusy] = useState(false);
  const [open, setOpen] = useState<string | null>(null);

  const profile = useQuery({
    queryKey: ['segments', 'contact-profile', contactId],
    // The journey's first page names the contact's customer profile.
    queryFn: () => api.get<{ profile_id?: string | null }>(cdpPath(apiPath`/contacts/${contactId}/journey`), { limit: 1 }),
    staleTime: 60_000,
  });
  const profileId = profile.data?.profile_id ?? null;
  const tags = useQuery({
    queryKey: segmentKeys.contactTags(contactId),
    queryFn: () => api.get<CustomerTag[]>(cdpPath(apiPath`/contacts/${contactId}/tags`)),
  });
  const memberships = useQuery({
    queryKey: segmentKeys.memberships(profileId ?? ''),
    enabled: Boolean(profileId),
    queryFn: () => api.get<Membership[]>(cdpPath(apiPath`/profiles/${String(profileId)}/segments`)),
  });

  const refresh = () => client.invalidateQueries({ queryKey: segmentKeys.contactTags(contactId) });
  const add = async () => {
    const tag = draft.trim();
    if (!tag) return;
    setBusy(true);
    try {
      await api.post(cdpPath(apiPath`/contacts/${contactId}/tags`), { tag });
      setDraft('');
      await refresh();
    } catch (error) {
      message.error(errorMessage(i18n, error));
    } finally {
      setBusy(false);
    }
  };
  const remove = async (tag: string) => {
    try {
      await api.delete(cdpPath(apiPath`/contacts/${contactId}/tags/${tag}`));
      await refresh();
    } catch (error) {
      message.error(errorMessage(i18n, error));
    }
  };

  const tagList = tags.data ?? [];
  const fromSegments = tagList.filter((tg) => tg.source !== 'manual');
  const manual = tagList.filter((tg) => tg.source === 'manual');

  return (
    <Card
      title={
        <span>
          <TagsOutlined /> {t('segments.panel.title')}
        </span>
      }
      style={{ marginBottom: 16 }}
      data-testid="contact-segments"
    >
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {t('segments.panel.tags')}
      </Typography.Text>
      {tags.error ? (
        <PageError error={tags.error} onRetry={() => tags.refetch()} />
      ) : (
        <div style={{ display: 'flex', flexWrap: 'wrap', gap: 6, margin: '6px 0 8px' }} data-testid="contact-tags">
          {fromSegments.map((tg) => (
            <Tooltip key={`s-${tg.segment_id}-${tg.tag}`} title={t('segments.panel.fromSegment', { name: tg.segment_name ?? tg.segment_id ?? '' })}>
              <Tag color="blue" icon={<ApartmentOutlined />} data-testid="segment-tag" data-tag={tg.tag} style={{ marginInlineEnd: 0 }}>
                {tg.segment_id ? <Link to={`/cdp/segments/${tg.segment_id}`}>{tg.tag}</Link> : tg.tag}
              </Tag>
            </Tooltip>
          ))}
          {manual.map((tg) => (
            <Tag
              key={`m-${tg.tag}`}
              title={t('segments.panel.since', { when: i18n.dateTime(tg.since) })}
              closable
              onClose={(e) => {
                e.preventDefault();
                void remove(tg.tag);
              }}
              data-testid="manual-tag"
              data-tag={tg.tag}
              style={{ marginInlineEnd: 0 }}
            >
              {tg.tag}
            </Tag>
          ))}
          {!tags.isLoading && tagList.length === 0 && <Typography.Text type="secondary">{t('segments.panel.noTags')}</Typography.Text>}
        </div>
      )}
      <Space.Compact style={{ width: '100%', maxWidth: 360 }}>
        <Input
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onPressEnter={add}
          maxLength={100}
          placeholder={t('segments.panel.newTag')}
          aria-label={t('segments.panel.newTag')}
          data-testid="new-tag"
        />
        <Button icon={<PlusOutlined />} onClick={add} loading={busy} disabled={!draft.trim()} data-testid="add-tag">
          {t('common.add')}
        </Button>
      </Space.Compact>

      <Typography.Text type="secondary" style={{ fontSize: 12, display: 'block', marginTop: 16 }}>
        {t('segments.panel.memberships')}
      </Typography.Text>
      {profile.isLoading || memberships.isLoading ? null : !profileId ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('segments.panel.noProfile')} />
      ) : memberships.error ? (
        <PageError error={memberships.error} onRetry={() => memberships.refetch()} />
      ) : (
        <div data-testid="memberships">
          {(memberships.data ?? []).length === 0 && (
            <Typography.Paragraph type="secondary" style={{ margin: '6px 0 0' }}>
              {t('segments.panel.noSegments')}
            </Typography.Paragraph>
          )}
          {(memberships.data ?? []).map((m) => (
            <div key={m.segment_id} data-testid="membership" data-segment={m.segment_id} style={{ padding: '8px 0', borderBottom: '1px solid #f0f0f0' }}>
              <div style={{ display: 'flex', flexWrap: 'wrap', gap: 8, alignItems: 'center' }}>
                <Link to={`/cdp/segments/${m.segment_id}`} style={{ fontWeight: 500 }}>
                  {m.segment_name}
                </Link>
                {m.tag && <Tag color="blue">{m.tag}</Tag>}
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {t('segments.panel.since', { when: i18n.dateTime(m.entered_at) })} · v{m.version}
                </Typography.Text>
                <div style={{ flex: 1 }} />
                <Button
                  size="small"
                  type={open === m.segment_id ? 'primary' : 'default'}
                  onClick={() => setOpen(open === m.segment_id ? null : m.segment_id)}
                  data-testid="show-lineage"
                >
                  {t('segments.lineage.title')}
                </Button>
              </div>
              {open === m.segment_id && profileId && <Lineage profileId={profileId} segmentId={m.segment_id} />}
            </div>
          ))}
        </div>
      )}
    </Card>
  );
}
